"""Shared bench plumbing: a real dev server, percentiles, and a uniform report line."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

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
            yield settings, client
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def gateway_process(settings: Settings):
    """`gpt-orchestrator gateway` as its own OS process (its own client, no eager start), against the
    bench's server and task queue; yields its URL once /health answers."""
    port = free_port()
    env = worker_env(settings, API_KEY=settings.api_key.get_secret_value(), LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "gateway", "--port", str(port)],
        cwd=REPO,
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
        yield url
    finally:
        stop(proc)
