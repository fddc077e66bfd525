"""Sync `memory.write` through POST /orchestrate vs raw temporalio, all in one run, one dev server.

Baseline: the raw default, `client.execute_workflow` of a one-activity workflow with a normal start
(the SDK's defaults: sandboxed workflow, normal activity). Then the raw floors (eager start, a local
activity, both), and ours:
- `make dev`: gateway and worker in one process on one client, eager start; memory.write's handler a
  local activity (the fast path);
- the same with LOCAL_ACTIVITY_INTENTS=[] (the way back: a normal activity);
- the same with memory.write a no-op: the platform's own cost, without the memory write (which the raw
  floor also pays when its local activity is memory.write itself);
- the same through an aiohttp client: the load generator shares the two cores with what it measures,
  and httpx costs ~1-2 ms more CPU per request than aiohttp (the raw rows have no HTTP client at all);
- the gateway in its own process (`gpt-orchestrator gateway`), talking to this process's worker: a
  normal start, then the fast path.

memory.write writes behind (activities/memory_outbox.py): it journals (one fsync), and the drainer thread
embeds and upserts into Chroma in groups in this process. Every round starts with the journals drained,
so no variant pays for another's memories (the raw memory.write floor, the way back and `make dev` each
write some): at 30 writes a round the drain mostly runs between rounds, as it does for a caller who
writes now and then. What a writer pays when the drainer embeds meanwhile (~5 ms of CPU a memory, on the
same two cores) is its own row: 150 writes back to back. Sustained load is the throughput bench's.

The raw floor is measured twice: sandboxed (the SDK's default, like the baseline) and unsandboxed (how our
workers run workflows, worker/run.py), so the floor the platform really stands on is in the table too.

Every variant runs its requests in interleaved rounds, so drift (dispatch regimes, GC, SQLite growth)
hits them alike. The eager variants report how many of their starts Temporal really took eagerly.
"""

from __future__ import annotations

import time
import uuid

import aiohttp
import httpx
from temporalio import activity
from temporalio.worker import Worker

from activities.memory import MemoryActivities
from bench.common import bench_platform, drained, gateway_process, report, summarize
from bench.raw_workflows import RawOneActivity, RawOneLocalActivity, RawOneLocalActivityUnsandboxed, raw_noop
from gateway.app import create_app
from tests.support.gateway import LiveServer
from worker.run import build_worker

N = 150
WARMUP = 15
RAW_QUEUE = "bench-raw"
DEV = "make dev: POST /orchestrate (eager, local)"
DEV_AIOHTTP = "  same, an aiohttp client"
DEV_SUSTAINED = "  same, 150 back to back (drains meanwhile)"
DEV_NO_STORAGE = "  same, memory.write a no-op (no Chroma)"
SEPARATE = "gateway in its own process (local)"
SEPARATE_NO_STORAGE = "  same, its worker's memory.write a no-op"


def _raw(client, workflow, *, eager: bool, activity: str = "bench.noop"):
    async def go(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await client.execute_workflow(
                workflow.run, activity, id=f"raw-{uuid.uuid4().hex}", task_queue=RAW_QUEUE, request_eager_start=eager
            )
            out.append(time.perf_counter() - t0)
        return out

    return go


def _http(http: httpx.AsyncClient, url: str, job_ids: list[str] | None = None):
    async def go(n: int) -> list[float]:
        out = []
        for _ in range(n):
            body = {"intent": "memory.write", "inputs": {"text": f"bench {uuid.uuid4().hex}"}}
            t0 = time.perf_counter()
            resp = await http.post(f"{url}/orchestrate", json=body)
            out.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.text
            if job_ids is not None:
                job_ids.append(resp.json()["job_id"])
        return out

    return go


def _aiohttp(http: aiohttp.ClientSession, url: str):
    async def go(n: int) -> list[float]:
        out = []
        for _ in range(n):
            body = {"intent": "memory.write", "inputs": {"text": f"bench {uuid.uuid4().hex}"}}
            t0 = time.perf_counter()
            async with http.post(f"{url}/orchestrate", json=body) as resp:
                text = await resp.text()
            out.append(time.perf_counter() - t0)
            assert resp.status == 200, text
        return out

    return go


async def eager_share(client, job_ids: list[str]) -> str:
    taken = 0
    for job_id in job_ids:
        history = await client.get_workflow_handle(job_id).fetch_history()
        taken += history.events[0].workflow_execution_started_event_attributes.eager_execution_accepted
    return f"{taken}/{len(job_ids)}"


@activity.defn(name="memory.write")
async def noop_memory_write(inp: dict) -> dict:
    """memory.write without its storage: what our platform costs around a handler."""
    return {"id": "mem-bench"}


async def run() -> None:
    async with bench_platform() as (settings, client):
        # Each worker that writes memories has its own collection (and so its own lexical index file):
        # two stores writing one SQLite index would wait on each other's locks, which no user setup does.
        way_back = settings.model_copy(
            update={"task_queue": "bench-way-back", "local_activity_intents": [], "chroma_collection": "way-back"}
        )
        no_storage = settings.model_copy(update={"task_queue": "bench-no-storage"})
        # The raw worker also hosts memory.write itself (the same Chroma write), for a same-work floor.
        raw_activities = [raw_noop, MemoryActivities(settings.model_copy(update={"chroma_collection": "raw"})).write]
        raw_worker = Worker(
            client,
            task_queue=RAW_QUEUE,
            workflows=[RawOneActivity, RawOneLocalActivity, RawOneLocalActivityUnsandboxed],
            activities=raw_activities,
        )
        async with (
            raw_worker,
            build_worker(client, settings),
            build_worker(client, way_back),
            build_worker(client, no_storage, activities=[noop_memory_write]),
        ):
            async with (
                LiveServer(create_app(settings, client=client, eager_start=True)) as dev,
                LiveServer(create_app(way_back, client=client, eager_start=True)) as dev_way_back,
                LiveServer(create_app(no_storage, client=client, eager_start=True)) as dev_no_storage,
                gateway_process(settings) as separate_url,
                gateway_process(no_storage) as separate_no_storage_url,
                httpx.AsyncClient(headers={"Authorization": "Bearer bench-key"}, timeout=60) as http,
                aiohttp.ClientSession(headers={"Authorization": "Bearer bench-key"}) as cheap_http,
            ):
                dev_jobs: list[str] = []
                variants = {
                    "raw execute_workflow, 1 activity (default)": _raw(client, RawOneActivity, eager=False),
                    "raw, eager start + activity": _raw(client, RawOneActivity, eager=True),
                    "raw, normal start + local activity": _raw(client, RawOneLocalActivity, eager=False),
                    "raw, eager start + local activity (floor)": _raw(client, RawOneLocalActivity, eager=True),
                    "  same, unsandboxed (as our workers run)": _raw(
                        client, RawOneLocalActivityUnsandboxed, eager=True
                    ),
                    "  same, the activity is memory.write (journal)": _raw(
                        client, RawOneLocalActivity, eager=True, activity="memory.write"
                    ),
                    DEV: _http(http, dev.url, dev_jobs),
                    DEV_AIOHTTP: _aiohttp(cheap_http, dev.url),
                    "  same, LOCAL_ACTIVITY_INTENTS=[] (way back)": _http(http, dev_way_back.url),
                    DEV_NO_STORAGE: _http(http, dev_no_storage.url),
                    SEPARATE: _http(http, separate_url),
                    SEPARATE_NO_STORAGE: _http(http, separate_no_storage_url),
                }
                for fn in variants.values():
                    await fn(WARMUP)
                dev_jobs.clear()
                samples: dict[str, list[float]] = {name: [] for name in variants}
                names = list(variants)
                for i in range(5):
                    for name in names if i % 2 == 0 else names[::-1]:
                        await drained()
                        samples[name] += await variants[name](N // 5)
                await drained()
                samples[DEV_SUSTAINED] = await _http(http, dev.url)(N)
                eager = await eager_share(client, dev_jobs)
        order = [*names[: names.index(DEV_AIOHTTP) + 1], DEV_SUSTAINED, *names[names.index(DEV_AIOHTTP) + 1 :]]
        rows = {name: summarize(samples[name]) for name in order}
        report(
            f"sync memory.write, {N} requests each (make dev starts taken eagerly: {eager})", rows, baseline=names[0]
        )
        base = rows[names[0]]["p50"]
        for twin in (DEV_AIOHTTP, DEV_SUSTAINED):
            print(
                f"   {DEV}, {twin.strip().removeprefix('same, ')}: p50 {rows[twin]['p50'] / base:.2f}x the raw default"
            )
        targets = [
            (DEV, DEV_NO_STORAGE, 0.25),
            (SEPARATE, SEPARATE_NO_STORAGE, 0.6),
        ]  # (variant, twin without Chroma, target)
        for name, no_storage_twin, target in targets:
            ratio, platform = rows[name]["p50"] / base, rows[no_storage_twin]["p50"] / base
            print(
                f"   target {name}: p50 {ratio:.2f}x the raw default (target <= {target}x): {'met' if ratio <= target else 'NOT met'}; "
                f"with memory.write a no-op {platform:.2f}x ({'met' if platform <= target else 'NOT met'})"
            )
