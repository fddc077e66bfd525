"""The throughput bench's load generator, run as its own process so its CPU is not the system's.

    python -m bench.load http URL KEY JOBS CLIENTS       -> JOBS async POST /orchestrate memory.write
    python -m bench.load raw ADDRESS QUEUE ACTIVITY JOBS CLIENTS -> JOBS client.start_workflow

CLIENTS concurrent clients (each its own HTTP connection, or tasks on one Temporal client) send JOBS
requests in all. Prints one JSON line: the wall clock at the first request, the seconds to the last
answer, and how many were refused (anything but a 202 / a started workflow).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.common import (
    Priority,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.raw_workflows import RawOneActivity
from workflows import search_attributes as sa


async def drive(send: Callable[[int], Awaitable[bool]], jobs: int, clients: int) -> dict:
    refused = 0
    per_client = jobs // clients

    async def one(c: int) -> None:
        nonlocal refused
        for i in range(per_client):
            if not await send(c * per_client + i):
                refused += 1

    started_wall, t0 = time.time(), time.perf_counter()
    await asyncio.gather(*(one(c) for c in range(clients)))
    return {"started_wall": started_wall, "accept_s": time.perf_counter() - t0, "refused": refused}


async def http_load(url: str, key: str, jobs: int, clients: int) -> dict:
    sessions = [
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) for _ in range(clients)
    ]
    tag = uuid.uuid4().hex[:8]

    async def send(i: int) -> bool:
        body = {"intent": "memory.write", "inputs": {"text": f"throughput {tag} {i}"}, "async": True}
        resp = await sessions[i % clients].post("/orchestrate", json=body)
        return resp.status_code == 202

    try:
        return await drive(send, jobs, clients)
    finally:
        await asyncio.gather(*(s.aclose() for s in sessions))


async def raw_load(address: str, queue: str, activity: str, jobs: int, clients: int, **options) -> dict:
    client = await Client.connect(address, data_converter=pydantic_data_converter)

    async def send(i: int) -> bool:
        await client.start_workflow(
            RawOneActivity.run, activity, id=f"tp-raw-{uuid.uuid4().hex}", task_queue=queue, **options
        )
        return True

    return await drive(send, jobs, clients)


def gateway_like_options() -> dict:
    """What the gateway sends with a start besides the workflow (probe: the server's cost of them)."""
    pairs = [(sa.INTENT, "memory.write"), (sa.MODE, "agent"), (sa.TENANT, "default"), (sa.REQUESTED_BY, "api-key")]
    return dict(
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        execution_timeout=timedelta(days=7),
        search_attributes=TypedSearchAttributes([SearchAttributePair(k, v) for k, v in pairs]),
        static_summary='memory.write: "throughput"',
        static_details='**memory.write** (agent mode)\n\n```json\n{"text": "t"}\n```',
        memo={"fingerprint": "f" * 64},
        priority=Priority(fairness_key="default"),
    )


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "http":
        url, key, jobs, clients = args
        result = asyncio.run(http_load(url, key, int(jobs), int(clients)))
    else:
        address, queue, activity, jobs, clients = args
        options = gateway_like_options() if kind == "rawfull" else {}
        result = asyncio.run(raw_load(address, queue, activity, int(jobs), int(clients), **options))
    print(json.dumps(result), flush=True)
    os._exit(0)  # temporalio 1.35's client can crash the interpreter at finalization; the answer is out
