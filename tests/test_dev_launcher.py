"""`make dev` (= `gpt-orchestrator dev`): one command brings up Temporal, the worker and the gateway;
Ctrl-C stops all three; jobs survive a restart; the API key is stored, never printed."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.support.processes import REPO
from worker.devserver import free_port, port_is_open


def launch(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "dev"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the dev launcher exited"
        try:
            if httpx.get(f"{url}/health", timeout=2).json()["worker"]["polling"]:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError("the platform never became healthy")


async def history(address: str, job_id: str):
    client = await Client.connect(address)
    return (await client.get_workflow_handle(job_id).fetch_history()).events


def ctrl_c(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    proc.wait(30)


def test_make_dev_runs_the_platform_stops_on_ctrl_c_and_keeps_jobs(tmp_path):
    ports = {"temporal": free_port(), "ui": free_port(), "gateway": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_KEY", "TEMPORAL_", "GATEWAY_", "DATA_DIR"))}
    env |= {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}", "TEMPORAL_UI_PORT": str(ports["ui"]),
        "GATEWAY_PORT": str(ports["gateway"]), "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO),
    }  # fmt: skip
    url, log = f"http://127.0.0.1:{ports['gateway']}", tmp_path / "dev.log"

    proc = launch(env, log)
    try:
        wait_healthy(url, proc)
        key_file = tmp_path / "data" / "api_key"
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        auth = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
        written = httpx.post(f"{url}/orchestrate", headers=auth, timeout=30,
                             json={"intent": "memory.write", "inputs": {"text": "dev launcher memory"}}).json()  # fmt: skip
        assert written["status"] == "success"
        # The fast path: the start was eager and the whole job one workflow task (its handler a local activity).
        events = asyncio.run(history(f"127.0.0.1:{ports['temporal']}", written["job_id"]))
        assert events[0].workflow_execution_started_event_attributes.eager_execution_accepted
        assert [e.event_type for e in events].count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
        assert port_is_open("127.0.0.1", ports["ui"]), "the Web UI is served"
    finally:
        ctrl_c(proc)
    assert proc.returncode == 0
    assert not any(port_is_open("127.0.0.1", p) for p in ports.values()), "Ctrl-C stopped all three"

    proc = launch(env, log)
    try:
        wait_healthy(url, proc)
        job = httpx.get(f"{url}/jobs/{written['job_id']}", headers=auth, timeout=30).json()
        assert job["status"] == "success" and job["result"] == written["result"], "the job survived the restart"
    finally:
        ctrl_c(proc)

    output = log.read_text()
    assert "gateway      " + url in output and f"Temporal UI  http://127.0.0.1:{ports['ui']}" in output
    assert str(key_file) in output
    assert key_file.read_text().strip() not in output, "the key itself is never printed"
