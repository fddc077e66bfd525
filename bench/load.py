"""The throughput bench's load generator, run as its own process so its CPU is not the system's.

    python -m bench.load http URL KEY JOBS CLIENTS       -> JOBS async POST /orchestrate memory.write
    python -m bench.load aiohttp URL KEY JOBS CLIENTS    -> the same through aiohttp (a cheaper client)
    python -m bench.load raw ADDRESS QUEUE ACTIVITY JOBS CLIENTS -> JOBS client.start_workflow
    python -m bench.load rawfull ...      the same starts with everything the gateway sends besides the workflow
    python -m bench.load raw+memo,summary ...   with some of it (bench/load.py GATEWAY_EXTRAS)

CLIENTS concurrent clients (each its own HTTP connection, or tasks on one Temporal client) send JOBS
requests in all. Prints one JSON line: the wall clock at the first request, the seconds to the last
answer, how many were refused (anything but a 202 / a started workflow), and the CPU seconds the load
generator itself spent meanwhile.
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

    started_wall, t0, cpu0 = time.time(), time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(c) for c in range(clients)))
    accept_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    return {"started_wall": started_wall, "accept_s": accept_s, "refused": refused, "cpu_s": cpu_s}


async def http_load(url: str, key: str, jobs: int, clients: int) -> dict:
    """`url` may be several, comma-separated (gateways behind no balancer): the clients take turns."""
    urls = url.split(",")
    sessions = [
        httpx.AsyncClient(base_url=urls[c % len(urls)], headers={"Authorization": f"Bearer {key}"}, timeout=120)
        for c in range(clients)
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


async def aiohttp_load(url: str, key: str, jobs: int, clients: int) -> dict:
    """The same requests through aiohttp, a client that costs less CPU per request than httpx (bench/
    accept_costs.py: what the load generator's own CPU takes from the two cores)."""
    import aiohttp

    headers = {"Authorization": f"Bearer {key}"}
    sessions = [aiohttp.ClientSession(base_url=url, headers=headers) for _ in range(clients)]
    tag = uuid.uuid4().hex[:8]

    async def send(i: int) -> bool:
        body = {"intent": "memory.write", "inputs": {"text": f"throughput {tag} {i}"}, "async": True}
        async with sessions[i % clients].post("/orchestrate", json=body) as resp:
            await resp.read()
            return resp.status == 202

    try:
        return await drive(send, jobs, clients)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


async def raw_load(address: str, queue: str, activity: str, jobs: int, clients: int, **options) -> dict:
    client = await Client.connect(address, data_converter=pydantic_data_converter)

    async def send(i: int) -> bool:
        await client.start_workflow(
            RawOneActivity.run, activity, id=f"tp-raw-{uuid.uuid4().hex}", task_queue=queue, **options
        )
        return True

    return await drive(send, jobs, clients)


def extra_options() -> dict[str, dict]:
    """What the gateway sends with a start besides the workflow, by name (probe: the server's cost of each)."""
    pairs = [(sa.INTENT, "memory.write"), (sa.MODE, "agent"), (sa.TENANT, "default"), (sa.REQUESTED_BY, "api-key")]
    summary = 'memory.write: "throughput 1a2b3c4d 17"'
    return {
        "policies": dict(
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        ),
        "timeout": dict(execution_timeout=timedelta(days=7)),
        "search_attributes": dict(
            search_attributes=TypedSearchAttributes([SearchAttributePair(k, v) for k, v in pairs])
        ),
        "memo": dict(memo={"fingerprint": "f" * 64, "summary": summary}),
        "summary": dict(static_summary=summary),
        "details": dict(
            static_details='**memory.write** (agent mode)\n\n```json\n{\n  "text": "throughput 1a2b3c4d 17",\n'
            '  "tags": [],\n  "speaker_id": null\n}\n```'
        ),
        "priority": dict(priority=Priority(fairness_key="default")),
        # Probes only, not sent together with the ones above: parts of them.
        "search_attributes_no_mode": dict(
            search_attributes=TypedSearchAttributes([SearchAttributePair(k, v) for k, v in pairs if k != sa.MODE])
        ),
        "search_attributes_tenancy": dict(
            search_attributes=TypedSearchAttributes([SearchAttributePair(k, v) for k, v in pairs[2:]])
        ),
        "memo_summary_only": dict(memo={"summary": summary}),
    }


GATEWAY_EXTRAS = ("policies", "timeout", "search_attributes", "memo", "summary", "details", "priority")


def gateway_like_options(only: set[str] | None = None) -> dict:
    """Everything the gateway sends besides the workflow (GATEWAY_EXTRAS), or the extras named in `only`."""
    extras = extra_options()
    unknown = (only or set()) - set(extras)
    assert not unknown, f"unknown extras {sorted(unknown)}; known: {sorted(extras)}"
    options: dict = {}
    for name in GATEWAY_EXTRAS if only is None else sorted(only):
        options |= extras[name]
    return options


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind in ("http", "aiohttp"):
        url, key, jobs, clients = args
        result = asyncio.run((http_load if kind == "http" else aiohttp_load)(url, key, int(jobs), int(clients)))
    else:
        address, queue, activity, jobs, clients = args
        # raw: a bare start; rawfull: with all the gateway's extras; raw+memo,priority: with some of them
        options = gateway_like_options(None if kind == "rawfull" else set(kind.partition("+")[2].split(",")) - {""})
        result = asyncio.run(raw_load(address, queue, activity, int(jobs), int(clients), **options))
    print(json.dumps(result), flush=True)
    os._exit(0)  # temporalio 1.35's client can crash the interpreter at finalization; the answer is out
