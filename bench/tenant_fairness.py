"""Issue 11: one tenant's burst must not starve another tenant's single job.

Tenant A has N_A slow jobs queued or running (each one activity of SLOW_S seconds; the worker runs
SLOTS activities at a time, so A's backlog takes N_A * SLOW_S / SLOTS seconds to drain). Tenant B then
sends one job of the same kind. Measured: B's wait, from its start request to its result.

Variants, each against its own real dev server (fairness is server configuration):
- raw temporalio, B alone on an idle queue                                   <- baseline
- raw temporalio, B behind A's burst, FIFO (server fairness off, no keys)
- raw temporalio, B behind A's burst, Priority(fairness_key=tenant) + fairness on
- ours: POST /orchestrate with tenant A's and tenant B's caller keys (the gateway sets the fairness
  key from the key's tenant), dev server as `make dev` starts it (fairness on) and, for the
  comparison, with fairness off

The summary line is the figure the issue asks for: B's wait behind the burst without fairness
divided by B's wait with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import httpx
from temporalio.common import Priority
from temporalio.worker import Worker

from bench.common import report, summarize
from bench.raw_workflows import RawSlowJob, raw_sleep
from config import Settings
from config.api_keys import Role, add_key
from gateway.app import create_app
from infra.temporal import connect
from tests.support.gateway import LiveServer
from worker.devserver import DevServer
from worker.run import build_worker

N_A = 500
SLOW_S = 0.5
SLOTS = 25
ROUNDS = 3
SUBMIT_CONCURRENCY = 16
# The worker's thread pool is for sync activities; ours are async, so more slots than threads is fine.
warnings.filterwarnings("ignore", message="Worker max_concurrent_activities")


@contextlib.asynccontextmanager
async def server(fairness: bool):
    dev = await DevServer(ui_port=None, fairness=fairness).start()
    try:
        yield dev
    finally:
        dev.stop()


async def _gather_limited(coros, limit: int) -> list:
    sem = asyncio.Semaphore(limit)

    async def one(coro):
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


# --- raw temporalio ---------------------------------------------------------------------------


async def raw_round(client, *, burst: bool, keys: bool) -> float:
    queue = f"fair-raw-{uuid.uuid4().hex[:8]}"
    tag = uuid.uuid4().hex[:8]

    def priority(tenant: str) -> Priority | None:
        return Priority(fairness_key=tenant) if keys else None

    a_jobs = []
    if burst:  # queued before any worker polls: the backlog is all there when B arrives
        a_jobs = await _gather_limited(
            [
                client.start_workflow(
                    RawSlowJob.run, SLOW_S, id=f"a-{tag}-{i}", task_queue=queue, priority=priority("tenant-a")
                )
                for i in range(N_A)
            ],
            SUBMIT_CONCURRENCY * 2,
        )
    async with Worker(
        client, task_queue=queue, workflows=[RawSlowJob], activities=[raw_sleep], max_concurrent_activities=SLOTS
    ):
        if burst:
            await asyncio.sleep(1.0)  # A's jobs are running, the rest of them queued behind
        t0 = time.perf_counter()
        b = await client.start_workflow(
            RawSlowJob.run, SLOW_S, id=f"b-{tag}", task_queue=queue, priority=priority("tenant-b")
        )
        await b.result()
        waited = time.perf_counter() - t0
        await asyncio.gather(*(h.result() for h in a_jobs))
    return waited


# --- ours: the gateway, two tenants' caller keys -----------------------------------------------


async def gateway_round(client, settings: Settings, keys: dict[str, str]) -> float:
    queue = f"fair-gw-{uuid.uuid4().hex[:8]}"
    local = settings.model_copy(update={"task_queue": queue})
    tag = uuid.uuid4().hex[:8]
    marker = str(Path(settings.data_dir) / f"slow-{tag}.log")
    async with LiveServer(create_app(local, client=client)) as gw:
        async with httpx.AsyncClient(base_url=gw.url, timeout=60) as http:

            async def start(tenant: str, i: int) -> str:
                body = {"intent": "test.slow", "inputs": {"seconds": SLOW_S, "marker": f"{marker}.{i}"}, "async": True}
                resp = await http.post("/orchestrate", json=body, headers={"Authorization": f"Bearer {keys[tenant]}"})
                assert resp.status_code == 202, resp.text
                return resp.json()["job_id"]

            a_ids = await _gather_limited([start("tenant-a", i) for i in range(N_A)], SUBMIT_CONCURRENCY)
            async with build_worker(client, local, max_concurrent_activities=SLOTS):
                await asyncio.sleep(1.0)
                t0 = time.perf_counter()
                b_id = await start("tenant-b", -1)
                await client.get_workflow_handle(b_id).result()
                waited = time.perf_counter() - t0
                await asyncio.gather(*(client.get_workflow_handle(j).result() for j in a_ids))
    return waited


@contextlib.asynccontextmanager
async def gateway_platform(dev: DevServer):
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            api_key="bench-key",
            temporal_address=dev.address,
            data_dir=Path(tmp),
            task_queue="bench",
            extra_intent_modules=["tests.support.slow_intent"],
        )
        keys = {}
        for tenant in ("tenant-a", "tenant-b"):
            token, _ = add_key(settings.api_keys_path, f"{tenant}-gpt", Role.CALLER, tenant=tenant, rate="100000/min")
            keys[tenant] = token
        client = await connect(settings)
        yield settings, client, keys


async def run() -> None:
    samples: dict[str, list[float]] = {}
    t_start = time.perf_counter()
    async with server(fairness=True) as dev:
        async with gateway_platform(dev) as (settings, client, keys):
            raw = await connect(settings)
            samples["raw: B alone on an idle queue"] = [
                await raw_round(raw, burst=False, keys=True) for _ in range(ROUNDS)
            ]
            samples["raw: B behind A's burst, fairness keys"] = [
                await raw_round(raw, burst=True, keys=True) for _ in range(ROUNDS)
            ]
            samples["ours: B behind A's burst, tenant fairness"] = [
                await gateway_round(client, settings, keys) for _ in range(ROUNDS)
            ]
    async with server(fairness=False) as dev:
        async with gateway_platform(dev) as (settings, client, keys):
            raw = await connect(settings)
            samples["raw: B behind A's burst, FIFO"] = [
                await raw_round(raw, burst=True, keys=False) for _ in range(ROUNDS)
            ]
            samples["ours: B behind A's burst, fairness off"] = [
                await gateway_round(client, settings, keys) for _ in range(ROUNDS)
            ]
    rows = {name: summarize(s) for name, s in samples.items()}
    order = [
        "raw: B alone on an idle queue",
        "raw: B behind A's burst, FIFO",
        "raw: B behind A's burst, fairness keys",
        "ours: B behind A's burst, fairness off",
        "ours: B behind A's burst, tenant fairness",
    ]
    report(
        f"tenant B's one job while tenant A runs {N_A} jobs of {SLOW_S:g} s ({SLOTS} activity slots; "
        f"A's backlog drains in ~{N_A * SLOW_S / SLOTS:.0f} s), {ROUNDS} rounds each",
        {name: rows[name] for name in order},
        baseline="raw: B alone on an idle queue",
    )
    ours_fifo = rows["ours: B behind A's burst, fairness off"]["p50"]
    ours_fair = rows["ours: B behind A's burst, tenant fairness"]["p50"]
    raw_fifo = rows["raw: B behind A's burst, FIFO"]["p50"]
    raw_fair = rows["raw: B behind A's burst, fairness keys"]["p50"]
    print(
        f"   B's wait without fairness / with it, p50: ours {ours_fifo / ours_fair:.1f}x "
        f"({ours_fifo / 1000:.1f} s -> {ours_fair / 1000:.1f} s); raw temporalio {raw_fifo / raw_fair:.1f}x"
    )
    print(f"   (bench took {time.perf_counter() - t_start:.0f} s)")
