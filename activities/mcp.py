"""mcp.list_tools and mcp.call_tool: MCP tool servers through the official SDK (1.x API, pinned <2).

A stdio server runs as one long-lived process per worker, its session shared by every call
(activities/mcp_sessions.py: restarted when it dies, safe under concurrent calls), so a call costs a
round trip instead of a process start and a handshake. A streamable-HTTP server gets a session per
activity (cheap: one HTTP connection).

The server's config may narrow what it offers: `tools` (an allowlist: other tools are neither listed
nor callable) and `descriptions` (the operator's words replace the tool's own). A description that
comes from the server is third-party text: intents/mcp.py caps it and marks it so wherever a GPT reads it.

Error policy: the server cannot be reached, the connection drops, or a call times out -> retryable
UpstreamUnavailable; an unknown server or tool -> NotFound; arguments that break the tool's schema ->
ValidationError; the tool answers isError -> ToolError with the tool's own text. Only the first is
retried.

A tool's text (errors and results) is scrubbed of our configured secrets (its server's headers and
env secrets among them) before it reaches a result, an error or a log line.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import httpx
from mcp import ClientSession, McpError, StdioServerParameters
from mcp.client.stdio import get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CONNECTION_CLOSED, INVALID_PARAMS, CallToolResult, TextContent, Tool
from temporalio import activity

from activities.heartbeat import with_heartbeats
from activities.mcp_sessions import StdioSessionPool, all_tools
from activities.redaction import errors_scrubbed, peer_scrubber
from config import Settings
from config.mcp_servers import McpServerConfig
from intents.errors import ErrorType, app_error
from intents.mcp import (
    MCP_CALL_ACTIVITY,
    MCP_LIST_ACTIVITY,
    McpCatalog,
    McpListRequest,
    McpServerTools,
    McpToolCall,
    McpToolInfo,
    McpToolOutput,
    schema_errors,
)

ERROR_TEXT_CHARS = 2000
CONNECT_TIMEOUT_S = 10.0


# A send on a session whose server already died fails with these before anything leaves: safe to retry at once.
DEAD_SESSION = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream)


def tool_info(tool: Tool, config: McpServerConfig | None = None) -> McpToolInfo:
    hints = tool.annotations
    override = config.descriptions.get(tool.name) if config else None
    return McpToolInfo(
        name=tool.name,
        title=tool.title or (hints.title if hints else None),
        description=override if override is not None else tool.description or "",
        description_by="operator" if override is not None else "server",
        input_schema=tool.inputSchema or {"type": "object"},
        read_only_hint=hints.readOnlyHint if hints else None,
        destructive_hint=hints.destructiveHint if hints else None,
    )


def result_text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def leaf_error(err: BaseException) -> BaseException:
    """anyio task groups wrap failures in ExceptionGroups; the first real one says what happened."""
    while isinstance(err, BaseExceptionGroup):
        err = next((e for e in err.exceptions if not isinstance(e, asyncio.CancelledError)), err.exceptions[0])
    return err


def connection_error(server: str, err: BaseException):
    """Map a failure to reach or talk to a server onto a typed (mostly retryable) activity error."""
    err = leaf_error(err)
    if isinstance(err, (FileNotFoundError, PermissionError)):
        return app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"MCP server {server!r} cannot be started: {err}")
    if isinstance(err, httpx.HTTPStatusError) and err.response.status_code in (401, 403):
        return app_error(
            ErrorType.UPSTREAM_AUTH, f"MCP server {server!r} refused our credentials ({err.response.status_code})"
        )
    if isinstance(err, httpx.HTTPStatusError) and 400 <= err.response.status_code < 500:
        return app_error(ErrorType.UPSTREAM_BAD_REQUEST, f"MCP server {server!r} answered {err.response.status_code}")
    if isinstance(err, McpError) and err.error.code not in (CONNECTION_CLOSED, httpx.codes.REQUEST_TIMEOUT):
        kind = ErrorType.VALIDATION if err.error.code == INVALID_PARAMS else ErrorType.TOOL_ERROR
        return app_error(kind, f"MCP server {server!r}: {err.error.message}")
    detail = str(err) or type(err).__name__
    return app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"MCP server {server!r} unreachable: {detail}", retryable=True)


class McpActivities:
    def __init__(self, settings: Settings):
        self._servers: dict[str, McpServerConfig] = dict(settings.mcp_servers)
        self._scrub = peer_scrubber(settings)
        self.pool = StdioSessionPool()

    def activities(self) -> list:
        return [self.list_tools, self.call_tool]

    def _config(self, server: str) -> McpServerConfig:
        config = self._servers.get(server)
        if config is None:
            known = ", ".join(sorted(self._servers)) or "none configured (MCP_SERVERS)"
            raise app_error(ErrorType.NOT_FOUND, f"unknown MCP server {server!r}; known: {known}")
        return config

    @asynccontextmanager
    async def _stdio(self, config: McpServerConfig) -> AsyncIterator[ClientSession]:
        assert config.command is not None
        env = {**get_default_environment(), **config.env} if config.env else None
        params = StdioServerParameters(command=config.command[0], args=config.command[1:], env=env, cwd=config.cwd)
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write, timedelta(seconds=config.timeout_s)) as session,
        ):
            await session.initialize()
            yield session

    @asynccontextmanager
    async def _session(
        self, server: str, config: McpServerConfig
    ) -> AsyncIterator[tuple[ClientSession, dict[str, Tool]]]:
        """(session, its tools by name): the pooled one for stdio (reopened once if it had died), a fresh one for HTTP."""
        read_timeout = timedelta(seconds=config.timeout_s)
        if config.command is not None:
            pooled = await self.pool.get(server, lambda: self._stdio(config))
            try:
                yield pooled.session, pooled.tools
            except BaseException as err:
                if _session_broken(err):
                    self.pool.discard(pooled)
                raise
            return
        headers = {name: value.get_secret_value() for name, value in config.headers.items()}
        # Redirects stay off (httpx's default); the SDK itself follows only same-origin ones.
        http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(config.timeout_s, connect=min(CONNECT_TIMEOUT_S, config.timeout_s))
        )
        assert config.url is not None  # McpServerConfig holds a command or a url
        async with http, streamable_http_client(config.url, http_client=http) as (read, write, _):
            async with ClientSession(read, write, read_timeout) as session:
                await session.initialize()
                yield session, {t.name: t for t in await all_tools(session)}

    async def _catalog_of(self, server: str) -> list[McpToolInfo]:
        config = self._config(server)
        for attempt in (1, 2):
            try:
                async with self._session(server, config) as (session, _):
                    # Listed afresh (a catalog refresh must see new tools), through the pooled session.
                    tools = await all_tools(session)
                return [tool_info(t, config) for t in tools if config.allows(t.name)]
            except DEAD_SESSION:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _entry(self, server: str, *, strict: bool) -> McpServerTools:
        config = self._config(server)
        entry = McpServerTools(server=server, transport=config.transport, timeout_s=config.timeout_s)
        try:
            entry.tools = await self._catalog_of(server)
        except Exception as err:  # noqa: BLE001 - one dead server must not hide the others' tools
            mapped = connection_error(server, err)
            if strict:
                raise mapped from None
            entry.error = mapped.message
        return entry

    @activity.defn(name=MCP_LIST_ACTIVITY)
    async def list_tools(self, req: McpListRequest) -> McpCatalog:
        with errors_scrubbed(self._scrub):
            if req.server is not None:
                entries = [await with_heartbeats(self._entry(req.server, strict=True))]
            else:
                names = sorted(self._servers)
                entries = list(await with_heartbeats(asyncio.gather(*(self._entry(n, strict=False) for n in names))))
        catalog = McpCatalog(servers=entries).model_dump(mode="json")
        return McpCatalog.model_validate(self._scrub(catalog))

    @activity.defn(name=MCP_CALL_ACTIVITY)
    async def call_tool(self, req: McpToolCall) -> dict:
        with errors_scrubbed(self._scrub):
            return self._scrub(await self._call_tool(req))

    async def _call_tool(self, req: McpToolCall) -> dict:
        config = self._config(req.server)
        if CALL_SENT in activity.info().heartbeat_details:
            # An earlier attempt sent this call to a tool that may change things, then died (timeout,
            # crash). Running it again could do it twice: say so instead, and let a human decide.
            raise app_error(
                ErrorType.TOOL_OUTCOME_UNKNOWN,
                f"{req.server}/{req.tool}: an earlier attempt sent the call and never reported back; it may have run. "
                "Not repeated automatically; check the tool's side and send the request again if needed.",
            )
        sent: list[bool] = []
        try:
            outcome = await with_heartbeats(self._call(config, req, sent))
        except Exception as err:  # noqa: BLE001 - everything below is mapped to a typed error
            if sent:  # the call left for a tool with side effects: its outcome is unknown, do not retry
                raise app_error(
                    ErrorType.TOOL_OUTCOME_UNKNOWN,
                    f"{req.server}/{req.tool}: the connection failed after the call was sent; it may have run ({type(err).__name__}).",
                ) from None
            raise connection_error(req.server, err) from None
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome.isError:
            text = self._scrub.text(result_text(outcome)) or "the tool reported an error without text"
            raise app_error(ErrorType.TOOL_ERROR, f"{req.server}/{req.tool} failed: {text[:ERROR_TEXT_CHARS]}")
        return McpToolOutput(
            server=req.server,
            tool=req.tool,
            text=result_text(outcome),
            content=[block.model_dump(mode="json", exclude_none=True) for block in outcome.content],
            structured=outcome.structuredContent,
        ).model_dump(mode="json")

    async def _call(
        self, config: McpServerConfig, req: McpToolCall, sent: list[bool]
    ) -> CallToolResult | BaseException:
        """Returns (not raises) our own refusals, so they leave the SDK's task groups unwrapped.
        Appends to `sent` when a call to a tool not marked read-only leaves for the server.
        A pooled session found dead when the call is sent (nothing left) is replaced once."""
        try:
            return await self._call_once(config, req, sent)
        except DEAD_SESSION:
            sent.clear()
            return await self._call_once(config, req, sent)

    async def _call_once(
        self, config: McpServerConfig, req: McpToolCall, sent: list[bool]
    ) -> CallToolResult | BaseException:
        async with self._session(req.server, config) as (session, listed):
            tools = {name: t for name, t in listed.items() if config.allows(name)}
            tool = tools.get(req.tool)
            if tool is None and config.allows(req.tool) and config.command is not None:
                tools = {
                    t.name: t for t in await all_tools(session) if config.allows(t.name)
                }  # new since the session opened
                listed.update(tools)
                tool = tools.get(req.tool)
            if tool is None:
                close = difflib.get_close_matches(req.tool, tools, n=3, cutoff=0.5)
                hint = (
                    f"; did you mean {', '.join(close)}?"
                    if close
                    else f"; it has: {', '.join(sorted(tools)) or 'no tools'}"
                )
                return app_error(ErrorType.NOT_FOUND, f"MCP server {req.server!r} has no tool {req.tool!r}{hint}")
            problems = schema_errors(tool.inputSchema or {"type": "object"}, req.arguments)
            if problems:
                where = "; ".join(f"{'.'.join(map(str, p['loc'])) or '(arguments)'}: {_reason(p)}" for p in problems)
                return app_error(ErrorType.VALIDATION, f"{req.server}/{req.tool} arguments: {where}")
            if not (tool.annotations and tool.annotations.readOnlyHint):
                # Recorded before sending, so a retry of this activity knows the call may have run.
                activity.heartbeat(CALL_SENT)
                sent.append(True)
            return await session.call_tool(req.tool, req.arguments)


CALL_SENT = "call_sent"


def _session_broken(err: BaseException) -> bool:
    """A failure that says the stdio session is no use any more (as opposed to a tool's own error)."""
    leaf = leaf_error(err)
    if isinstance(leaf, DEAD_SESSION):
        return True
    return isinstance(leaf, McpError) and leaf.error.code == CONNECTION_CLOSED


def _reason(detail: Any) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required"
    return kind.message_template.format(**(kind.context or {}))  # a PydanticCustomError
