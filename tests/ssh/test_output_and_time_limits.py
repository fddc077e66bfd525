"""Long output is cut with a visible marker; long commands heartbeat, time out, and can be cancelled."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from intents.approval import Approval, DecisionKind
from intents.errors import ErrorType
from intents.ssh import SshExecInput


async def test_huge_output_is_truncated_with_a_marker(ssh, env, ssh_settings):
    limit = ssh_settings.ssh_max_output_chars
    command = "head -c 50000 /dev/zero | tr '\\0' x; head -c 3000 /dev/zero | tr '\\0' e >&2"
    result = await env.run(ssh.exec, SshExecInput(host="web-1", command=command))
    assert result.truncated and result.exit_status == 0
    assert result.stdout.startswith("x" * limit)
    assert result.stdout.endswith(f"[... truncated: {50000 - limit} more characters not shown ...]")
    assert "truncated: 2000 more" in result.stderr


async def test_a_command_that_outruns_its_timeout_is_stopped(ssh, env):
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.exec, SshExecInput(host="quick", command="sleep 5"))
    assert caught.value.type == ErrorType.SSH_COMMAND_TIMEOUT and caught.value.non_retryable


async def test_a_long_command_heartbeats_and_cancellation_reaches_it(ssh, env):
    beats = []
    env.on_heartbeat = lambda *details: beats.append(details)
    running = asyncio.create_task(env.run(ssh.exec, SshExecInput(host="web-1", command="sleep 30")))
    while len(beats) < 2:
        await asyncio.sleep(0.1)
    assert beats[-1] == ("running on web-1",)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(running, 2)


async def remote_pid(pidfile) -> int:
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            return int(pidfile.read_text())
        await asyncio.sleep(0.05)
    raise AssertionError("the remote command never started")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_cancelled_command_stops_on_the_host(ssh, env, sshd):
    # SIGTERM is sent, but OpenSSH ignores signal requests for root sessions (CI logs in as root);
    # closing the channel still ends any command that writes output, as this one does.
    pidfile = sshd.marker_dir / f"pid-{uuid.uuid4().hex}"
    command = f"echo $$ > {pidfile}; exec sh -c 'while :; do echo tick; sleep 0.1; done'"
    approved = Approval(decision=DecisionKind.APPROVED, approver="test", decided_at=datetime.now(UTC))  # $$, exec: held
    running = asyncio.create_task(env.run(ssh.exec, SshExecInput(host="web-1", command=command), approved))
    pid = await remote_pid(pidfile)
    assert alive(pid)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    for _ in range(100):
        if not alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not alive(pid), "the remote command kept running after cancellation"
