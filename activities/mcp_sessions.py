"""One long-lived MCP session per stdio server, per worker process.

Spawning a stdio server and its handshake cost seconds (2.4 s a call for `uvx mcp-server-fetch`); the
tool call itself costs what an HTTP call does. So each stdio server gets one process and one
`ClientSession`, opened on first use and shared by every activity of the worker:

- **Owner task.** anyio ties a session to the task that entered it, so each session lives inside its
  own asyncio task (`_own`), which holds it open until asked to close or until the server dies. Other
  tasks send requests through it: the SDK multiplexes concurrent requests by JSON-RPC id, so calls
  from many activities at once are safe.
- **Restart.** When the process exits or the connection breaks, the owner task ends; the next call
  finds the entry dead and opens a fresh one. A caller that saw the failure marks the session dead
  (`discard`) so nobody else reuses it.
- **One opener at a time** per server (a lock), so a burst of first calls spawns one process, not N.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from mcp import ClientSession
from mcp.types import Tool


@dataclass
class PooledSession:
    server: str
    session: ClientSession
    tools: dict[str, Tool] = field(default_factory=dict)
    _owner: asyncio.Task | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def alive(self) -> bool:
        return self._owner is not None and not self._owner.done() and not self._stop.is_set()

    def close(self) -> None:
        self._stop.set()


Opener = Callable[[], AbstractAsyncContextManager[ClientSession]]


class StdioSessionPool:
    """Sessions by server name; `get` opens or reopens, `discard` drops a broken one."""

    def __init__(self) -> None:
        self._sessions: dict[str, PooledSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.opened = 0  # how many processes this pool has started (tests, the bench)

    async def get(self, server: str, opener: Opener) -> PooledSession:
        found = self._sessions.get(server)
        if found is not None and found.alive:
            return found
        lock = self._locks.setdefault(server, asyncio.Lock())
        async with lock:
            found = self._sessions.get(server)
            if found is not None and found.alive:
                return found
            pooled = await self._open(server, opener)
            self._sessions[server] = pooled
            return pooled

    async def _open(self, server: str, opener: Opener) -> PooledSession:
        ready: asyncio.Future[PooledSession] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()

        async def own() -> None:
            try:
                async with opener() as session:
                    pooled = PooledSession(server=server, session=session, _stop=stop)
                    pooled.tools = {t.name: t for t in await all_tools(session)}
                    ready.set_result(pooled)
                    await stop.wait()
            except BaseException as exc:  # noqa: BLE001 - the opener's failure is the caller's to map
                if not ready.done():
                    ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                if isinstance(exc, asyncio.CancelledError):
                    raise

        owner = asyncio.create_task(own(), name=f"mcp-session-{server}")
        try:
            pooled = await ready
        except BaseException:
            owner.cancel()
            raise
        pooled._owner = owner
        self.opened += 1
        return pooled

    def discard(self, pooled: PooledSession) -> None:
        """The session failed under a caller: close it, so the next call starts a fresh process."""
        pooled.close()
        if self._sessions.get(pooled.server) is pooled:
            del self._sessions[pooled.server]

    async def aclose(self) -> None:
        owners = []
        for pooled in self._sessions.values():
            pooled.close()
            if pooled._owner is not None:
                owners.append(pooled._owner)
        self._sessions.clear()
        for owner in owners:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(owner, timeout=5)


async def all_tools(session: ClientSession) -> list[Tool]:
    tools: list[Tool] = []
    cursor = None
    while True:
        page = await session.list_tools(cursor)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools
