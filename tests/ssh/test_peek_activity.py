"""ssh.exec.peek against a real sshd: read-only commands run; anything else never dials the host."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from intents.errors import ErrorType
from intents.ssh import SshPeekInput
from tests.ssh.corpus import INJECTIONS
from tests.ssh.peek_corpus import ALL_ESCAPES


async def test_an_operator_checks_disk_space(ssh, env):
    result = await env.run(ssh.peek, SshPeekInput(host="web-1", command="df -h"))
    assert result.exit_status == 0
    assert "Filesystem" in result.stdout
    assert result.command == "df -h" and result.host == "web-1"
    assert not result.truncated and result.duration_ms >= 0


async def test_peek_sends_the_requoted_argv(ssh, env):
    result = await env.run(ssh.peek, SshPeekInput(host="web-1", command='date "+%Y %m"'))
    assert result.command == "date '+%Y %m'"
    assert len(result.stdout.split()) == 2  # the remote shell saw one FORMAT word, not two operands


async def test_injections_are_refused_before_any_connection(ssh, env, trap):
    """Every corpus string aims at the `trap` host: a listener that counts TCP accepts."""
    before = trap.accepted
    for command, reason in INJECTIONS:
        # The pydantic model refuses blank commands itself; the policy must refuse the rest.
        inputs = SshPeekInput.model_construct(host="trap", command=command)
        with pytest.raises(ApplicationError) as caught:
            await env.run(ssh.peek, inputs)
        assert caught.value.type == ErrorType.UNSAFE_COMMAND, command
        assert caught.value.non_retryable, command
        assert reason in caught.value.message, command
    assert trap.accepted == before, "a refused command must not open a connection"

    # The counter is real: an allowed command does dial the trap (which hangs up, a retryable failure).
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.peek, SshPeekInput(host="trap", command="uptime"))
    assert trap.accepted == before + 1
    assert caught.value.type == ErrorType.UPSTREAM_UNAVAILABLE and not caught.value.non_retryable


async def test_an_unknown_host_is_refused_naming_the_known_ones(ssh, env):
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.peek, SshPeekInput(host="10.0.0.1", command="uptime"))
    assert caught.value.type == ErrorType.UNKNOWN_HOST and caught.value.non_retryable
    assert "web-1" in caught.value.message


async def test_the_whole_escape_corpus_is_refused_by_the_activity_and_never_reaches_the_host(ssh, env, sshd):
    """A request that reaches the worker without the gateway: the peek activity's own re-check refuses it.

    The `recorder` host only logs what sshd received; its log stays unchanged.
    """
    before = sshd.recorded_commands()
    for command, reason in ALL_ESCAPES:
        inputs = SshPeekInput.model_construct(host="recorder", command=command)
        with pytest.raises(ApplicationError) as caught:
            await env.run(ssh.peek, inputs)
        assert caught.value.type == ErrorType.UNSAFE_COMMAND and caught.value.non_retryable, command
        assert reason in caught.value.message, command
    assert sshd.recorded_commands() == before
