"""Shared bench plumbing: a real dev server, percentiles, and a uniform report line."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from activities.memory_outbox import DRAINER
from config import Settings
from infra.temporal import connect
from tests.support.processes import REPO, stop, worker_env
from worker.devserver import DevServer, free_port


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summarize(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "mean": statistics.fmean(ms)}


def report(title: str, rows: dict[str, dict[str, float]], baseline: str) -> None:
    base = rows[baseline]
    print(f"\n== {title}")
    print(f"   {'variant':<44}{'p50 ms':>9}{'p99 ms':>9}{'p50 ratio':>11}{'p99 ratio':>11}")
    for name, r in rows.items():
        print(
            f"   {name:<44}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['p50'] / base['p50']:>11.2f}{r['p99'] / base['p99']:>11.2f}"
        )


class Platform(tuple):
    """(settings, client) of bench_platform, with the dev server at `.server`."""

    server: DevServer


@contextlib.asynccontextmanager
async def bench_platform(**overrides):
    server = await DevServer(ui_port=None).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                api_key="bench-key",
                temporal_address=server.address,
                data_dir=Path(tmp),
                task_queue="bench",
                **overrides,
            )
            client = await connect(settings)
            platform = Platform((settings, client))
            platform.server = server
            yield platform
    finally:
        server.stop()


async def drained() -> None:
    """Every journaled memory in this process stored in Chroma (the drainer's graceful-stop flush): a
    variant's background embedding is then not measured as part of the next one's."""
    left = await asyncio.to_thread(DRAINER.flush_all, 120)
    assert not left, f"{left} memories still journaled"


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class CpuSampler:
    """The CPU time of named processes every 50 ms, so the CPU each spent in a window of wall-clock time
    (a load's accept phase) can be read afterwards: what each process costs per accepted job."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: collections.deque[tuple[float, dict[str, float]]] = collections.deque(maxlen=200_000)
        self._task: asyncio.Task | None = None

    def _sample(self) -> None:
        self.samples.append((time.time(), {n: cpu_s(p) for n, p in self.pids.items()}))

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(0.05)

    def __enter__(self) -> CpuSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()

    def window(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each process spent between two wall-clock times (the nearest samples)."""
        self._sample()
        first = min(self.samples, key=lambda s: abs(s[0] - start))
        last = min(self.samples, key=lambda s: abs(s[0] - end))
        return {n: last[1][n] - first[1][n] for n in self.pids}


@contextlib.asynccontextmanager
async def gateway_process(settings: Settings):
    """`gpt-orchestrator gateway` as its own OS process (its own client, no eager start), against the
    bench's server and task queue; yields its URL once /health answers."""
    async with gateway_process_handle(settings) as (url, _):
        yield url


@contextlib.asynccontextmanager
async def gateway_process_handle(settings: Settings, command: list[str] | None = None, repo: Path = REPO):
    """gateway_process, yielding (URL, process); `command` replaces `-m worker.cli gateway`, `repo` runs
    another checkout's code (bench/accept_costs.py)."""
    port = free_port()
    env = worker_env(settings, API_KEY=settings.api_key.get_secret_value(), LOG_LEVEL="WARNING", PYTHONPATH=str(repo))
    proc = subprocess.Popen(
        [sys.executable, *(command or ["-m", "worker.cli", "gateway"]), "--port", str(port)],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                assert proc.poll() is None, f"gateway exited with {proc.returncode}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the gateway process did not answer /health in 30 s")
        yield url, proc
    finally:
        stop(proc)
