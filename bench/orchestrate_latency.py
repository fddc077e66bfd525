"""Sync POST /orchestrate memory.write over loopback vs raw client.execute_workflow of the same workflow.

Both run against the same dev server and the same worker, in this process. Variants:
- raw execute_workflow, own client (normal start)   <- baseline
- raw execute_workflow on the worker's client, normal and eager start
- gateway, separate client (a standalone gateway process talks to Temporal like this)
- gateway sharing the worker's client with eager start (what `make dev` runs)
"""

from __future__ import annotations

import time
import uuid

import httpx

from bench.common import bench_platform, report, summarize
from gateway.app import create_app
from infra.temporal import connect
from intents.spec import Mode
from tests.support.gateway import LiveServer
from worker.run import build_worker
from workflows.intent import IntentWorkflow
from workflows.models import IntentRequest

N = 150
WARMUP = 15


async def _raw(client, settings, eager: bool, n: int) -> list[float]:
    out = []
    for _ in range(n):
        req = IntentRequest(intent="memory.write", inputs={"text": f"bench {uuid.uuid4().hex}", "tags": []}, mode=Mode.WORKER)
        t0 = time.perf_counter()
        await client.execute_workflow(
            IntentWorkflow.run, req, id=f"raw-{uuid.uuid4().hex}", task_queue=settings.task_queue, request_eager_start=eager
        )
        out.append(time.perf_counter() - t0)
    return out


async def _http(url: str, n: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": "Bearer bench-key"}, timeout=60) as http:
        for _ in range(n):
            body = {"intent": "memory.write", "inputs": {"text": f"bench {uuid.uuid4().hex}"}}
            t0 = time.perf_counter()
            resp = await http.post("/orchestrate", json=body)
            out.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.text
    return out


async def run() -> None:
    async with bench_platform() as (settings, client):
        async with build_worker(client, settings):
            separate = await connect(settings)
            async with LiveServer(create_app(settings, client=separate)) as plain, LiveServer(
                create_app(settings, client=client, eager_start=True)
            ) as eager:
                variants = {
                    "raw execute_workflow (own client)": lambda n: _raw(separate, settings, False, n),
                    "raw execute_workflow (worker's client)": lambda n: _raw(client, settings, False, n),
                    "raw execute_workflow (worker's client, eager)": lambda n: _raw(client, settings, True, n),
                    "gateway POST /orchestrate (own client)": lambda n: _http(plain.url, n),
                    "gateway POST /orchestrate (shared, eager)": lambda n: _http(eager.url, n),
                }
                for fn in variants.values():
                    await fn(WARMUP)
                # Interleave rounds so drift (GC, SQLite growth) hits every variant alike.
                samples: dict[str, list[float]] = {name: [] for name in variants}
                for _ in range(5):
                    for name, fn in variants.items():
                        samples[name] += await fn(N // 5)
        rows = {name: summarize(s) for name, s in samples.items()}
        report(f"sync memory.write, {N} requests each", rows, baseline="raw execute_workflow (own client)")
