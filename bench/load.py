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

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.raw_workflows import RawOneActivity


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


async def raw_load(address: str, queue: str, activity: str, jobs: int, clients: int) -> dict:
    client = await Client.connect(address, data_converter=pydantic_data_converter)

    async def send(i: int) -> bool:
        await client.start_workflow(RawOneActivity.run, activity, id=f"tp-raw-{uuid.uuid4().hex}", task_queue=queue)
        return True

    return await drive(send, jobs, clients)


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "http":
        url, key, jobs, clients = args
        result = asyncio.run(http_load(url, key, int(jobs), int(clients)))
    else:
        address, queue, activity, jobs, clients = args
        result = asyncio.run(raw_load(address, queue, activity, int(jobs), int(clients)))
    print(json.dumps(result), flush=True)
    os._exit(0)  # temporalio 1.35's client can crash the interpreter at finalization; the answer is out
