"""The peek escape corpus against the real stack: nothing reaches the host, the everyday set runs at once.

The `recorder` host logs the command line sshd received and runs nothing, so its log is an observer
that cannot lie: if a refused command had been sent, it would be there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError

from gateway.lifecycle import failure_of
from intents.spec import Mode
from policies.ssh_exec import classify_danger
from tests.ssh.peek_corpus import ALL_ESCAPES, BENIGN, ESCAPES
from tests.support.sshd import RealSshd
from workflows.intent import IntentWorkflow
from workflows.models import IntentRequest


@pytest.fixture
def hosts_file(sshd: RealSshd, tmp_path: Path) -> Path:
    return sshd.write_inventory(
        tmp_path / "ssh_hosts.yaml", {"web-1": sshd.host_entry(), "recorder": sshd.recorder_entry()}
    )


async def test_every_escape_is_a_4xx_from_the_gateway_and_never_reaches_the_host(ssh_stack, sshd):
    before = sshd.recorded_commands()
    async with ssh_stack(with_worker=False) as (http, _):  # no worker: whatever happens, happens in the gateway
        for command, _reason in ALL_ESCAPES:
            resp = await http.post(
                "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "recorder", "command": command}}
            )
            assert 400 <= resp.status_code < 500, (command, resp.status_code, resp.text)
    assert sshd.recorded_commands() == before, "a refused command reached the recorder host"


async def test_the_recorder_does_log_what_arrives(ssh_stack, sshd):
    """Control for the test above: an allowed peek at the recorder host is logged there (and not run)."""
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "recorder", "command": "ip -br a"}}
        )
    assert resp.status_code == 200, resp.text
    assert sshd.recorded_commands()[-1] == "ip -br a"


async def test_a_workflow_started_without_the_gateway_is_refused_by_the_worker(ssh_stack, client, sshd):
    """Bypass the gateway's precheck: start IntentWorkflow directly; the worker's own re-check refuses.

    Two escapes of each family. Ones the exec danger classifier flags (`df -h; rm -rf /`) are left out:
    ssh.preflight holds those for a human first, and the peek activity refuses them after an approval
    (tests/ssh/test_peek_activity.py runs the whole corpus through the activity itself).
    """
    sample = [c for cases in ESCAPES.values() for c in cases[:3] if not classify_danger(c[0])]
    before = sshd.recorded_commands()
    async with ssh_stack() as (_http, local):
        for command, reason in sample:
            request = IntentRequest(
                intent="ssh.exec.peek", inputs={"host": "recorder", "command": command}, mode=Mode.WORKER
            )
            with pytest.raises(WorkflowFailureError) as caught:
                await client.execute_workflow(
                    IntentWorkflow.run, request, id=f"bypass-{uuid.uuid4().hex[:10]}", task_queue=local.task_queue
                )
            _status, error = failure_of(caught.value)
            assert error.type == "UnsafeCommand", (command, error)
            assert reason in error.message, (command, error.message)
    assert sshd.recorded_commands() == before, "the worker sent a refused command to the host"


async def test_the_everyday_set_runs_at_once(ssh_stack):
    async with ssh_stack() as (http, _):
        for command in BENIGN:
            resp = await http.post(
                "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "web-1", "command": command}}
            )
            assert resp.status_code == 200, (command, resp.text)
            body = resp.json()
            assert body["status"] == "success", (command, body)
            assert body["result"]["command"] == command
