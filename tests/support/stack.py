"""An isolated slice of the platform for one test: its own task queue, worker and gateway,
sharing the session's Temporal server and client."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
from temporalio.client import Client

from config import Settings
from gateway.app import create_app
from tests.support.gateway import LiveServer, api_client
from worker.run import build_worker


@contextlib.asynccontextmanager
async def isolated_stack(
    client: Client, settings: Settings, *, activities=None, with_worker: bool = True, tracer_provider=None, **overrides
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    local = settings.model_copy(update={"task_queue": f"tq-{uuid.uuid4().hex[:8]}", **overrides})
    worker_cm = build_worker(client, local, activities=activities) if with_worker else contextlib.nullcontext()
    async with worker_cm:
        async with LiveServer(create_app(local, client=client, tracer_provider=tracer_provider)) as server:
            async with api_client(server.url) as http:
                yield http, local


async def poll_job(http: httpx.AsyncClient, job_id: str, *, until=("success", "error"), timeout: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        resp = await http.get(f"/jobs/{job_id}")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["status"] in until:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"job stuck at {body['status']}"
        await asyncio.sleep(0.1)
