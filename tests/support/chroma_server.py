"""A real Chroma server (`chroma run`, the Rust server the chromadb/chroma image runs) on a free
loopback port, from the chromadb package in the venv."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from worker.devserver import free_port, port_is_open


@contextmanager
def chroma_server(data: Path) -> Iterator[int]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    argv = [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)]
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
