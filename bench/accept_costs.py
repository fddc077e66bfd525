"""Where an accepted async job's time goes: the throughput bench's accept phase, taken apart.

    uv run --frozen python -m bench accept_costs            (not part of `make bench`: a diagnosis)
    ACCEPT_VARIANTS=raw,raw+memo,http-separate ACCEPT_ROUNDS=3 BENCH_JOBS=1000 ...
    ACCEPT_PYSPY=/path/to/py-spy   also profiles the gateway (its own process) under the load
        (ACCEPT_PYSPY_ARGS: py-spy's options, `--nonblocking` by default)
    ACCEPT_UVLOOP=1                this process (the `make dev` gateway, the workers) on uvloop
    ACCEPT_GATEWAY_PY="/path/to/wrapper.py"   runs the gateway process through a wrapper script

Each variant sends JOBS starts from CLIENTS concurrent clients (bench/load.py, a process of its own)
against a fresh dev server (so none pays for the jobs another left in its database), with no worker
polling unless it says `@worker` (so only the accept path runs), and reports the accept rate and the
CPU each process spent per accepted job: the load generator, the dev server, this process (the
`make dev` gateway, the workers) and the gateway process(es). Variants (ACCEPT_VARIANTS,
comma-separated; `raw+a,b` takes extras joined with `;`):
- `raw`: bare `client.start_workflow`; `rawfull`: with everything the gateway sends besides the
  workflow; `raw+memo` / `raw+search_attributes;memo`: with some of it (bench/load.py GATEWAY_EXTRAS);
- `http-dev`: POST /orchestrate to a gateway in this process (as `make dev` runs it);
- `http-separate`: to `gpt-orchestrator gateway` in its own process (`http-separate-before`: the
  gateway of the checkout at ACCEPT_BEFORE, for a before/after in one run); `aiohttp-separate`: the same
  with an aiohttp load generator (cheaper per request than httpx: what the client's CPU takes);
- `http-separate-x2`: two gateway processes, the clients split between them;
- `http-floor` / `http-floor-full`: to the least an HTTP front of Temporal does (floor_app: parse,
  start bare / with the gateway's extras, answer 202) in its own process, under uvicorn;
- `...@worker`: a worker in this process runs the jobs meanwhile, as in the throughput bench (`raw`:
  the no-op activity; `rawmem`: raw starts whose activity is memory.write; HTTP: our worker).
Rounds alternate their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import uvicorn
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.memory import MemoryActivities
from bench.common import CpuSampler, gateway_process_handle
from bench.load import GATEWAY_EXTRAS, gateway_like_options
from bench.raw_workflows import RawOneActivity, raw_noop
from bench.throughput import load
from config import Settings
from gateway.app import create_app
from infra.temporal import connect
from tests.support.gateway import LiveServer
from worker.devserver import DevServer
from worker.run import build_worker

JOBS = int(os.environ.get("BENCH_JOBS", 1000))
CLIENTS = 100
ROUNDS = int(os.environ.get("ACCEPT_ROUNDS", 2))
DEFAULT_VARIANTS = ["raw", *(f"raw+{e}" for e in GATEWAY_EXTRAS), "rawfull", "http-dev", "http-separate"]
VARIANTS = [v for v in os.environ.get("ACCEPT_VARIANTS", ",".join(DEFAULT_VARIANTS)).split(",") if v]
PYSPY = os.environ.get("ACCEPT_PYSPY")


def floor_app(address: str, queue: str, options: dict):
    """The least an HTTP front of Temporal can do: read the body, parse it, start the workflow, answer
    202. Pure ASGI (no framework, no auth, no validation), served by uvicorn like the gateway."""
    client: Client | None = None

    async def app(scope, receive, send) -> None:
        nonlocal client
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                client = await Client.connect(address, data_converter=pydantic_data_converter)
                await send({"type": "lifespan.startup.complete"})
            return await send({"type": "lifespan.shutdown.complete"})
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        status, out = 200, b'{"status":"ok"}'
        if scope["method"] == "POST":
            request = json.loads(body)
            assert client is not None
            handle = await client.start_workflow(
                RawOneActivity.run, request["intent"], id=f"floor-{uuid.uuid4().hex}", task_queue=queue, **options
            )
            status, out = 202, json.dumps({"status": "accepted", "job_id": handle.id}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return app


def gateway_process(settings: Settings, floor: str | None = None):
    """`gpt-orchestrator gateway` in its own process, or (floor: `bare`|`full`) the floor app."""
    if floor:
        return gateway_process_handle(
            settings, ["-m", "bench.accept_costs", "floor", settings.temporal_address, "accept", floor]
        )
    return gateway_process_handle(settings, [*os.environ.get("ACCEPT_GATEWAY_PY", "-m worker.cli").split(), "gateway"])


@contextlib.asynccontextmanager
async def stack(variant: str, data_root: Path):
    """A fresh dev server (so no variant pays for the jobs the others left in its database) and, for
    the HTTP variants, the gateway; yields the load generator's command and the processes to watch.
    `@worker`: a worker in this process runs the jobs meanwhile, as in the throughput bench (raw: the
    no-op activity; `rawmem`: memory.write; HTTP: our worker)."""
    variant, _, worker = variant.partition("@")
    server = await DevServer(ui_port=None).start()
    assert server.process is not None
    try:
        # A data dir that outlives the stack: a memory journal still draining behind (write-behind) finds
        # its files until the whole run ends.
        with contextlib.nullcontext(tempfile.mkdtemp(dir=data_root)) as tmp:
            async with contextlib.AsyncExitStack() as stack:
                settings = Settings(
                    api_key="bench-key", temporal_address=server.address, data_dir=Path(tmp), task_queue="accept"
                )
                pids = {"dev server": server.process.pid, "this process": os.getpid()}
                key = settings.api_key.get_secret_value()
                client = await connect(settings)
                if worker and variant.startswith(("raw", "rawmem")):
                    activity = MemoryActivities(settings).write if variant == "rawmem" else raw_noop
                    await stack.enter_async_context(
                        Worker(client, task_queue="accept", workflows=[RawOneActivity], activities=[activity])
                    )
                elif worker:
                    await stack.enter_async_context(build_worker(client, settings))
                if variant == "http-dev":
                    gateway = await stack.enter_async_context(
                        LiveServer(create_app(settings, client=client, eager_start=True))
                    )
                    yield ("http", gateway.url, key), pids
                elif variant == "http-separate-before":  # the gateway of another checkout (ACCEPT_BEFORE=path)
                    before = Path(os.environ["ACCEPT_BEFORE"])
                    url, proc = await stack.enter_async_context(gateway_process_handle(settings, repo=before))
                    yield ("http", url, key), pids | {"gateway process": proc.pid}
                elif variant in ("http-separate", "aiohttp-separate"):
                    url, proc = await stack.enter_async_context(gateway_process(settings))
                    yield (variant.partition("-")[0], url, key), pids | {"gateway process": proc.pid}
                elif variant == "http-separate-x2":  # two gateway processes, the clients split between them
                    url, proc = await stack.enter_async_context(gateway_process(settings))
                    url2, proc2 = await stack.enter_async_context(gateway_process(settings))
                    yield ("http", f"{url},{url2}", key), pids | {"gateway process": proc.pid, "gateway 2": proc2.pid}
                elif variant.startswith("http-floor"):
                    floor = "full" if variant.endswith("full") else "bare"
                    url, proc = await stack.enter_async_context(gateway_process(settings, floor))
                    yield ("http", url, key), pids | {"gateway process": proc.pid}
                elif variant == "rawmem":
                    yield ("raw", server.address, "accept", "memory.write"), pids
                else:
                    yield (variant.replace(";", ","), server.address, "accept", "bench.noop"), pids
    finally:
        server.stop()


async def run() -> None:
    with tempfile.TemporaryDirectory() as data_root:
        await measure(Path(data_root))


async def measure(data_root: Path) -> None:
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for r in range(ROUNDS):
        for variant in VARIANTS if r % 2 == 0 else VARIANTS[::-1]:
            async with stack(variant, data_root) as (command, pids):
                await load(*command, str(CLIENTS), str(CLIENTS))  # warm-up: connections, imports
                spy = None
                if PYSPY and "gateway process" in pids:
                    out = Path(tempfile.gettempdir()) / f"accept-pyspy-{r}.txt"
                    spy = subprocess.Popen(
                        [PYSPY, "record", "-p", str(pids["gateway process"]), "-r", "250", "-f", "raw",
                         "-o", str(out), *os.environ.get("ACCEPT_PYSPY_ARGS", "--nonblocking").split(), "-d", "600"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                    await asyncio.sleep(1)
                with CpuSampler(pids) as sampler:
                    await asyncio.sleep(0.1)
                    result = await load(*command, str(JOBS), str(CLIENTS))
                    await asyncio.sleep(0.1)
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes its profile and exits
                    spy.wait(30)
                    print(f"   py-spy profile of the gateway process: {out}", flush=True)
                start = result["started_wall"]
                row = {"rate": (JOBS - result["refused"]) / result["accept_s"], "load generator": result["cpu_s"]}
                row |= sampler.window(start, start + result["accept_s"])
                results[variant].append(row)
                print(f"   ({variant}: {row['rate']:.0f}/s, load {os.getloadavg()[0]:.1f})", flush=True)
    base = statistics.fmean(r["rate"] for r in results[VARIANTS[0]])
    names = ["load generator", "dev server", "this process", "gateway process", "gateway 2"]
    print(f"\n== accept path: {JOBS} starts from {CLIENTS} clients, fresh server each, mean of {ROUNDS} rounds "
          f"(CPU ms per accepted job; utilization = CPU s / accept s)")  # fmt: skip
    print(f"   {'variant':<34}{'accepted/s':>11}{'ratio':>7}" + "".join(f"{n:>17}" for n in names))
    for variant, rows in results.items():
        rate = statistics.fmean(r["rate"] for r in rows)
        cells = ""
        for n in names:
            ms = statistics.fmean(r.get(n, 0.0) for r in rows) / JOBS * 1000
            util = statistics.fmean(r.get(n, 0.0) * r["rate"] / JOBS for r in rows)
            cells += f"{ms:>8.2f} ms {util:>4.0%}  "
        print(f"   {variant:<34}{rate:>11.0f}{rate / base:>7.2f}{cells}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["floor"]:  # floor ADDRESS QUEUE bare|full --port PORT
        address, queue, extras, _, port = sys.argv[2:7]
        options = gateway_like_options() if extras == "full" else {}
        uvicorn.run(floor_app(address, queue, options), host="127.0.0.1", port=int(port), log_level="warning")
    elif os.environ.get("ACCEPT_UVLOOP"):  # this process (http-dev's gateway, the workers) on uvloop
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())
