"""Run `gpt-orchestrator worker` as a real OS process, so a test can kill it like a crash would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from config import Settings

REPO = Path(__file__).resolve().parents[2]


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_KEY", "TEMPORAL_", "TASK_QUEUE"))}
    env |= {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TASK_QUEUE": settings.task_queue,
        "DATA_DIR": str(settings.data_dir),
        "EXTRA_INTENT_MODULES": json.dumps(settings.extra_intent_modules),
        "PYTHONPATH": str(REPO),
        "LOG_LEVEL": "WARNING",
    }
    return env | extra


def start_worker(settings: Settings, *args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "worker", *args],
        cwd=REPO,
        env=worker_env(settings, **extra_env),
        stdin=subprocess.DEVNULL,
    )


def crash(proc: subprocess.Popen) -> None:
    """SIGKILL: no graceful shutdown, no chance to report anything to Temporal."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            crash(proc)


def start_gateway(settings: Settings, port: int, **extra_env: str) -> subprocess.Popen:
    """`gpt-orchestrator gateway` as its own process (own Temporal connection), on a loopback port."""
    env = worker_env(settings, API_KEY=settings.api_key.get_secret_value() if settings.api_key else "", **extra_env)
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "gateway", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
    )


async def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    import asyncio

    import httpx

    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            assert proc.poll() is None, f"gateway exited with {proc.returncode}"
            try:
                if (await http.get(f"{url}/health")).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "gateway did not start"
            await asyncio.sleep(0.1)
