"""The body guard: what a request must pass before the app reads a byte of its body.

In order, as a pure ASGI middleware (FastAPI reads the body *before* running route dependencies, so
these cannot be dependencies):
1. A request that carries a body (any method but GET/HEAD/OPTIONS) must have a valid bearer token:
   401 without reading the body, and the connection is closed. Its key's rate limit is charged here
   too (429 before the body is read); the route's role is checked by the route (gateway/auth.py).
2. The body is read with a deadline (`body_read_timeout_s`, whole body): a stalled upload gets 408
   and the connection is closed, so it holds neither a worker slot nor memory.
3. It must fit `max_body_bytes` (413), whether the length is declared or streamed.
4. A JSON body may nest at most MAX_BODY_DEPTH levels (422, field `body`), counted by one linear scan
   before anything parses it: deep JSON never reaches json.loads, pydantic or Temporal.
The app then gets one complete message.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import Gatekeeper
from gateway.errors import STATUS_BY_ERROR_TYPE, ApiError, error_body
from intents.errors import ErrorType
from intents.limits import MAX_BODY_DEPTH, json_depth

# Past the limit we still drain (and drop) this much, so an honest client that is mid-upload reads
# our 413 instead of a reset connection; beyond it we close the connection.
DRAIN_BYTES = 8 * 1024 * 1024
BODYLESS_METHODS = ("GET", "HEAD", "OPTIONS")


class BodyTimeout(Exception):
    pass


class BodyGuard:
    def __init__(
        self, app: ASGIApp, max_bytes: int, read_timeout_s: float = 10.0, gatekeeper: Gatekeeper | None = None
    ):
        self.app, self.max_bytes, self.read_timeout_s, self.gatekeeper = app, max_bytes, read_timeout_s, gatekeeper

    async def _answer(
        self, send: Send, status: int, body: dict, *, close: bool, headers: dict[str, str] | None = None
    ) -> None:
        raw = [(b"content-type", b"application/json")] + [
            (k.lower().encode(), v.encode()) for k, v in (headers or {}).items()
        ]
        if close:
            raw.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def _too_large(self, send: Send, receive: Receive, already: int, more: bool) -> None:
        drained = already
        try:
            async with asyncio.timeout(self.read_timeout_s):
                while more and drained < DRAIN_BYTES:
                    message = await receive()
                    more = message["type"] == "http.request" and message.get("more_body", False)
                    drained += len(message.get("body", b""))
        except TimeoutError:
            pass
        body = error_body(ErrorType.PAYLOAD_TOO_LARGE, f"request body exceeds {self.max_bytes} bytes", field="body")
        await self._answer(send, STATUS_BY_ERROR_TYPE[ErrorType.PAYLOAD_TOO_LARGE], body, close=more)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS_METHODS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        if self.gatekeeper is not None:
            try:
                await self.gatekeeper.admit(scope, headers.get(b"authorization", b"").decode("latin-1") or None)
            except ApiError as refused:
                body = error_body(refused.error_type, refused.message, field=refused.field, details=refused.details)
                # 401, 429, 503: answered unread, so the connection is closed (its body is still on it).
                return await self._answer(send, refused.status, body, close=True, headers=refused.headers)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._too_large(send, receive, 0, more=True)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.read_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away: nothing to answer
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    more = message.get("more_body", False)
                    if size > self.max_bytes:
                        return await self._too_large(send, receive, size, more)
                    if not more:
                        break
        except TimeoutError:
            late = f"the request body did not arrive within {self.read_timeout_s:g} s"
            body = error_body(ErrorType.REQUEST_TIMEOUT, late, field="body")
            return await self._answer(send, STATUS_BY_ERROR_TYPE[ErrorType.REQUEST_TIMEOUT], body, close=True)
        raw = b"".join(chunks)
        if (found := json_depth(raw)) > MAX_BODY_DEPTH:
            deep = f"body: JSON nests {found} levels deep; at most {MAX_BODY_DEPTH} are allowed"
            body = error_body(ErrorType.VALIDATION, deep, field="body")
            return await self._answer(send, STATUS_BY_ERROR_TYPE[ErrorType.VALIDATION], body, close=False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
