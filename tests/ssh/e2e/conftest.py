"""ssh.* end to end: the real gateway over HTTP, real Temporal, a real worker and the session's real sshd.

Each test gets its own inventory (with its own zone name) and, through `ssh_stack`, its own task
queue, worker and gateway, so approvals and zones of one test never meet another's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from config import Settings
from tests.support.sshd import RealSshd
from tests.support.stack import isolated_stack


@pytest.fixture
def zone(unique: str) -> str:
    return f"zone-{unique}"


@pytest.fixture
def hosts_file(sshd: RealSshd, trap, zone: str, tmp_path: Path) -> Path:
    return sshd.write_inventory(
        tmp_path / "ssh_hosts.yaml",
        {
            "web-1": sshd.host_entry(),
            "recorder": sshd.recorder_entry(),
            "web-1-zoned": sshd.host_entry(zone=zone),
            "impostor": sshd.host_entry(known_hosts_file=str(sshd.wrong_known_hosts)),
            "quick": sshd.host_entry(command_timeout_s=1),
            "trap": sshd.host_entry(port=trap.port, connect_timeout_s=2),
        },
    )


@pytest.fixture
def ssh_stack(client: Client, settings: Settings, hosts_file: Path) -> Callable:
    """`async with ssh_stack(**setting_overrides) as (http, settings)`: gateway + worker on a fresh queue."""

    def open_stack(**overrides):
        return isolated_stack(client, settings, ssh_hosts_file=hosts_file, **overrides)

    return open_stack


@pytest.fixture
def marker(sshd: RealSshd) -> Path:
    """A file the command under test creates: it exists iff the command ran on the host."""
    return sshd.marker_dir / f"ran-{uuid.uuid4().hex}"


@pytest.fixture
def doomed_dir(sshd: RealSshd) -> Path:
    """A scratch directory that `rm -rf` (classified dangerous) may really delete."""
    path = sshd.marker_dir / f"doomed-{uuid.uuid4().hex}"
    (path / "inner").mkdir(parents=True)
    return path


def dangerous(marker: Path, doomed_dir: Path) -> str:
    """A command the classifier holds for a human; running it leaves `marker` and removes `doomed_dir`."""
    return f"touch {marker} && rm -rf {doomed_dir}"


@dataclass(frozen=True)
class ActivityRun:
    """One activity of a job as its history tells it: where it was queued and who ran which attempt."""

    task_queue: str
    attempt: int  # of the recorded (last) attempt; 0 = never started
    identity: str  # worker that ran it ("pid@host")


async def history_events(client: Client, job_id: str, event_type: EventType.ValueType) -> list:
    history = await client.get_workflow_handle(job_id).fetch_history()
    return [e for e in history.events if e.event_type == event_type]


async def activity_runs(client: Client, job_id: str, activity: str) -> list[ActivityRun]:
    history = await client.get_workflow_handle(job_id).fetch_history()
    scheduled: dict[int, str] = {}
    started: dict[int, tuple[int, str]] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == activity:
                scheduled[event.event_id] = attrs.task_queue.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            started[attrs.scheduled_event_id] = (attrs.attempt, attrs.identity)
    return [ActivityRun(queue, *started.get(event_id, (0, ""))) for event_id, queue in scheduled.items()]


async def eventually(check: Callable, timeout: float = 10):
    """Poll an async check until it returns something truthy (visibility is eventually consistent)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if found := await check():
            return found
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.1)
