"""Reject oversized bodies (413) before the app sees them, whether the length is declared or streamed.

Bodies are small (ChatGPT's limit is 100k characters), so the middleware reads the body up to the
limit itself and hands the app one complete message; a body over the limit is never read further.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


# Past the limit we still drain (and drop) this much, so an honest client that is mid-upload reads
# our 413 instead of a reset connection; beyond it we close the connection.
DRAIN_BYTES = 8 * 1024 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def _reject(self, send: Send, receive: Receive, already: int = 0) -> None:
        drained, more = already, True
        while more and drained < DRAIN_BYTES:
            message = await receive()
            more = message["type"] == "http.request" and message.get("more_body", False)
            drained += len(message.get("body", b""))
        error = {"type": "PayloadTooLarge", "message": f"request body exceeds {self.max_bytes} bytes", "field": "body"}
        body = json.dumps({"status": "error", "job_id": None, "error": error}).encode()
        headers = [(b"content-type", b"application/json")] + ([(b"connection", b"close")] if more else [])
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                return await self._reject(send, receive)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # client went away; let the app see the disconnect
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                if not message.get("more_body", False):
                    return await self._reject(send, _done, size)
                return await self._reject(send, receive, size)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _done() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
