"""A callback receiver on loopback: records each POST (raw body and headers), answers as scripted."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.asgi_server import BackgroundServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class CallbackReceiver:
    def __init__(self):
        self.received: list[Received] = []
        self._statuses: list[int] = []
        self.delay_s = 0.0
        self.error_body = ""  # sent with every non-2xx answer (a receiver explaining itself)
        self._server = BackgroundServer(Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    def answer(self, *statuses: int) -> None:
        """The next requests get these statuses, in order; then 204."""
        self._statuses.extend(statuses)

    async def _receive(self, request: Request) -> Response:
        self.received.append(
            Received(request.url.path, {k.lower(): v for k, v in request.headers.items()}, await request.body())
        )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self._statuses.pop(0) if self._statuses else 204
        headers = {"Location": "http://169.254.169.254/"} if 300 <= status < 400 else None
        body = self.error_body if status >= 300 else ""
        return Response(body, status_code=status, headers=headers, media_type="text/plain" if body else None)

    def __enter__(self) -> CallbackReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()
