"""Throughput: 1000 async `POST /orchestrate` memory.write requests from 100 concurrent clients, against
raw `client.start_workflow` from 100 concurrent tasks and a raw worker, in the same run, same server.

Two rates per variant, over the same 1000 jobs:
- accept rate: jobs accepted per second (a 202 from the gateway, a returned handle from the raw start),
  from the first request sent to the last answer;
- completion rate: jobs completed per second, from the first request sent to the last close time
  Temporal recorded (read from visibility once all 1000 are closed).

Raw baselines: a one-activity workflow with a no-op activity (Temporal alone), and the same workflow
whose activity is memory.write itself (the same write our jobs do: journaled, drained into Chroma in
groups by the process's drainer thread). Ours: `make dev` (gateway
and worker in this process, one client; async jobs are not started eagerly) and the gateway in its own
process. The load generator is a process of its own (bench/load.py), but on two cores its CPU is still
taken from what it measures: httpx costs ~2 ms per request, where the raw baseline's SDK client costs
~0.8 and aiohttp ~0.7; so each of ours is also driven by aiohttp, a harness as cheap as the raw one. Every
variant writes its own Chroma collection; two rounds, the second in reverse order, and their mean.
Each variant starts with every journal drained: a variant's 1000 memories take ~5 s of embedding after its
jobs have completed, and that belongs to it, not to the accept phase of the variant after it.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time

from temporalio.worker import Worker

from activities.memory import MemoryActivities
from bench.common import CpuSampler, bench_platform, drained, gateway_process_handle
from bench.raw_workflows import RawOneActivity, raw_noop
from gateway.app import create_app
from tests.support.gateway import LiveServer
from tests.support.processes import REPO
from worker.run import build_worker

JOBS = int(os.environ.get("BENCH_JOBS", 1000))
CLIENTS = 100
ONLY = os.environ.get("BENCH_ONLY")  # a substring of the variants to run (profiling)
RAW_NOOP = "raw start_workflow + raw worker, no-op activity"
RAW_MEMORY = "  same, the activity is memory.write (journal)"


async def load(*args: str) -> dict:
    """Run the load generator (bench/load.py) in its own process; its result line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.load",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"load generator failed ({proc.returncode})"
    return json.loads(out.decode().strip().splitlines()[-1])


async def settled(client, task_queue: str, timeout: float = 600) -> None:
    """Until no workflow on task_queue is running."""
    deadline = time.monotonic() + timeout
    while (await client.count_workflows(f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"')).count:
        assert time.monotonic() < deadline, f"{task_queue}: jobs still running after {timeout} s"
        await asyncio.sleep(0.2)


async def completions(client, task_queue: str, started_wall: float) -> tuple[int, float]:
    """(jobs completed since started_wall, seconds from started_wall to the last of them); every job
    started since then must have completed."""
    await asyncio.sleep(0.5)  # a start answered late still shows up
    await settled(client, task_queue)
    closes, failed = [], 0
    async for wf in client.list_workflows(f'TaskQueue = "{task_queue}"'):
        if (
            wf.start_time.timestamp() >= started_wall - 1
            and wf.close_time
            and wf.close_time.timestamp() >= started_wall
        ):
            closes.append(wf.close_time.timestamp())
            failed += wf.status.name != "COMPLETED"
    assert not failed, f"{task_queue}: {failed} jobs did not complete"
    return len(closes), max(closes) - started_wall


async def run() -> None:
    async with bench_platform() as platform:
        settings, client = platform
        queues = {name: f"tp-{name}" for name in ("raw-noop", "raw-memory", "dev", "separate")}
        # Each variant writes its own Chroma collection, so none pays for the others' memories.
        own = {
            name: settings.model_copy(update={"task_queue": queue, "chroma_collection": queue})
            for name, queue in queues.items()
        }
        dev, separate = own["dev"], own["separate"]
        async with (
            Worker(client, task_queue=queues["raw-noop"], workflows=[RawOneActivity], activities=[raw_noop]),
            Worker(
                client,
                task_queue=queues["raw-memory"],
                workflows=[RawOneActivity],
                activities=[MemoryActivities(own["raw-memory"]).write],
            ),
            build_worker(client, dev),
            build_worker(client, separate),
            LiveServer(create_app(dev, client=client, eager_start=True)) as dev_gateway,
            gateway_process_handle(separate) as (separate_url, separate_gateway),
        ):
            key = settings.api_key.get_secret_value()
            n, c = str(JOBS), str(CLIENTS)
            variants = {
                RAW_NOOP: (queues["raw-noop"], ("raw", settings.temporal_address, queues["raw-noop"], "bench.noop")),
                RAW_MEMORY: (
                    queues["raw-memory"],
                    ("raw", settings.temporal_address, queues["raw-memory"], "memory.write"),
                ),
                "make dev: POST /orchestrate async (eager, local)": (queues["dev"], ("http", dev_gateway.url, key)),
                "  same, an aiohttp load generator": (queues["dev"], ("aiohttp", dev_gateway.url, key)),
                "gateway in its own process": (queues["separate"], ("http", separate_url, key)),
                "  own process, an aiohttp load generator": (queues["separate"], ("aiohttp", separate_url, key)),
            }
            for queue, command in variants.values():  # warm-up: connections, imports, Chroma opened
                await load(*command, str(CLIENTS), c)
                await settled(client, queue)
            # Two rounds, the second in reverse order: the dev server's database grows with every job, and
            # load from the rest of the machine comes and goes; both then weigh on every variant alike.
            names = [name for name in variants if not ONLY or ONLY in name]
            rates: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            # Where the accept phase's CPU went, per accepted job (the load generator counts its own).
            pids = {"dev server": platform.server.process.pid, "bench": os.getpid(), "gateway": separate_gateway.pid}
            with CpuSampler(pids) as cpu:
                for order in (names, names[::-1]):
                    for name in order:
                        queue, command = variants[name]
                        await drained()  # the last variant's memories are embedded on its time, not this one's
                        result = await load(*command, n, c)
                        start = result["started_wall"]
                        spent = {"load": result["cpu_s"]} | cpu.window(start, start + result["accept_s"])
                        completed, complete_s = await completions(client, queue, start)
                        accepted = JOBS - result["refused"]
                        rates[name].append((accepted / result["accept_s"], completed / complete_s))
                        per_job = ", ".join(
                            f"{k} {v / accepted * 1000:.2f}" for k, v in spent.items() if v > 0.005 * accepted / 1000
                        )
                        print(
                            f"   ({name.strip()}: {accepted}/{JOBS} accepted in {result['accept_s']:.1f} s, "
                            f"{completed} completed in {complete_s:.1f} s; load {os.getloadavg()[0]:.1f}; "
                            f"CPU ms per accepted job: {per_job})", flush=True,
                        )  # fmt: skip
            rows = {
                name: (statistics.fmean(a for a, _ in r), statistics.fmean(c for _, c in r))
                for name, r in rates.items()
            }
    print(f"\n== throughput: {JOBS} async memory.write jobs from {CLIENTS} concurrent clients (mean of 2 rounds)")
    raw, same_work = RAW_NOOP, RAW_MEMORY
    if raw not in rows or same_work not in rows:  # BENCH_ONLY left the baselines out: rates only
        for name, (accepted, completed) in rows.items():
            print(f"   {name:<50}{accepted:>11.0f} accepted/s{completed:>8.0f} completed/s")
        return
    print(f"   {'variant':<50}{'accepted/s':>11}{'completed/s':>12}{'accept ratio':>14}{'complete ratio':>16}")
    for name, (accepted, completed) in rows.items():
        print(
            f"   {name:<50}{accepted:>11.0f}{completed:>12.0f}{accepted / rows[raw][0]:>14.2f}{completed / rows[raw][1]:>16.2f}"
        )
    for name in [n for n in rows if n not in (raw, same_work)]:
        accepted, completed = rows[name]
        print(
            f"   target {name.strip()}: accept {accepted / rows[raw][0]:.2f}x raw (target >= 0.8x); "
            f"completions {completed / rows[raw][1]:.2f}x raw, {completed / rows[same_work][1]:.2f}x raw doing the same "
            "memory write (target >= 0.9x)"
        )
