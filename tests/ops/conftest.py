"""Fixtures for operating the platform: the temporal-docker/ stack's parsed files and a real Chroma server
for its healthcheck (the namespace job runs against the session's Temporal dev server, in a namespace of
its own); a worker process with metrics, JSON logs and tracing on, and the OTLP receiver it exports to."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from tests.support.chroma_server import chroma_server
from tests.support.compose import load_compose, read_env_file
from tests.support.otlp_collector import OtlpCollector
from tests.support.processes import REPO, stop, worker_env
from worker.devserver import free_port, port_is_open

STACK = Path(__file__).resolve().parents[2] / "temporal-docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(STACK / "docker-compose.yml")


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    """The values an operator starts from (`cp .env.example .env`)."""
    return read_env_file(STACK / ".env.example")


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with chroma_server(tmp_path_factory.mktemp("chroma")) as port:
        yield port


@dataclass
class ObservedWorker:
    """A `gpt-orchestrator worker` process the way an operator runs it with observability switched on."""

    settings: Settings  # its task queue, and the tracing endpoint a gateway in front of it would use
    metrics_url: str
    log_file: Path
    collector: OtlpCollector


@pytest.fixture(scope="module")
def otlp_collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as collector:
        yield collector


@pytest.fixture(scope="module")
async def observed_worker(settings, otlp_collector, tmp_path_factory) -> AsyncIterator[ObservedWorker]:
    local = settings.model_copy(
        update={
            "task_queue": f"observed-{uuid.uuid4().hex[:8]}",
            "extra_intent_modules": ["tests.support.slow_intent"],
            "otel_exporter_otlp_endpoint": otlp_collector.url,
        }
    )
    port = free_port()
    log_file = tmp_path_factory.mktemp("observed") / "worker.log"
    env = worker_env(
        local,
        WORKER_METRICS_ADDRESS=f"127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # ms: export spans promptly instead of every 5 s
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"], cwd=REPO, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,  # the SDK core writes to stdout
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not port_is_open("127.0.0.1", port):
            assert process.poll() is None, f"worker exited with {process.returncode}: {log_file.read_text()}"
            assert time.monotonic() < deadline, "worker metrics endpoint did not open in 30 s"
            await asyncio.sleep(0.05)
        yield ObservedWorker(local, f"http://127.0.0.1:{port}/metrics", log_file, otlp_collector)
    finally:
        stop(process)
