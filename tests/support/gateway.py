"""Run the real FastAPI app under uvicorn on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import uvicorn

from worker.devserver import free_port


class LiveServer:
    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Open event streams are cut after 2 s when the server stops (they never end by themselves).
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._server.capture_signals = contextlib.nullcontext  # the test runner owns signals
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LiveServer:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.should_exit = True
        await self._task


def api_client(base_url: str, token: str | None = "test-api-key") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)
