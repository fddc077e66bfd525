"""Fixtures for the temporal-docker/ stack: its parsed files, and a real Chroma server for its healthcheck.
(The namespace job runs against the session's Temporal dev server, in a namespace of its own.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.compose import load_compose, read_env_file
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
    """A Chroma server (the Rust server the chromadb/chroma image runs) on a free loopback port."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    argv = [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path_factory.mktemp("chroma"))]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not port_is_open("127.0.0.1", port):
            assert process.poll() is None, f"chroma exited with {process.returncode}"
            assert time.monotonic() < deadline, "chroma did not open its port in 30 s"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)
