"""ssh.exec against a real sshd: safe commands run; dangerous ones run only with an approval."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.ssh import SshActivities
from intents.approval import Approval, DecisionKind
from intents.errors import ErrorType
from intents.ssh import SshExecInput
from tests.ssh.exec_corpus import ALL as DANGEROUS


def decision(kind: DecisionKind) -> Approval:
    return Approval(decision=kind, approver="alice", reason="test", decided_at=datetime.now(timezone.utc))


async def test_a_safe_write_runs_through_the_remote_shell(ssh, env, sshd):
    marker = sshd.marker_dir / f"safe-{uuid.uuid4().hex}"
    result = await env.run(ssh.exec, SshExecInput(host="web-1", command=f"touch {marker} && echo made | tr a-z A-Z"))
    assert result.exit_status == 0 and result.stdout == "MADE\n"
    assert marker.exists()


async def test_a_failing_command_reports_its_exit_status_and_stderr(ssh, env):
    result = await env.run(ssh.exec, SshExecInput(host="web-1", command="echo oops >&2; exit 7"))
    assert (result.exit_status, result.stdout, result.stderr) == (7, "", "oops\n")


async def test_no_dangerous_command_reaches_a_host_without_approval(ssh, env, sshd):
    """The whole danger corpus, shaped `touch MARKER && <dangerous>`, aimed at the `recorder` host.

    The recorder's key is forced to a script that appends each requested command to a log and runs
    nothing, so a leak would be visible without ever running a destructive command here.
    """
    before, ran = sshd.recorded_commands(), []
    for n, dangerous in enumerate(DANGEROUS):
        marker = sshd.marker_dir / f"danger-{n}-{uuid.uuid4().hex}"
        try:
            inputs = SshExecInput(host="recorder", command=f"touch {marker} && {dangerous}")
        except ValidationError:  # not even valid input (a lone surrogate): the gateway answers 422
            continue
        try:
            await env.run(ssh.exec, inputs)
            ran.append(dangerous)
        except ApplicationError as err:
            assert err.type == ErrorType.UNSAFE_COMMAND and err.non_retryable, dangerous
            assert err.details[0]["risks"], dangerous
        assert not marker.exists(), dangerous
    assert ran == []
    assert sshd.recorded_commands() == before, "a dangerous command reached the host"

    # The recorder is real: a safe command sent to it shows up in its log (and still runs nothing).
    control = sshd.marker_dir / f"control-{uuid.uuid4().hex}"
    await env.run(ssh.exec, SshExecInput(host="recorder", command=f"touch {control}"))
    assert sshd.recorded_commands()[-1] == f"touch {control}"
    assert not control.exists()


@pytest.fixture
def doomed_dir(sshd):
    """A scratch directory whose removal `rm -rf` (classified dangerous) may safely perform."""
    path = sshd.root / f"doomed-{uuid.uuid4().hex}"  # outside the hosts' writable area
    (path / "inner").mkdir(parents=True)
    return path


async def test_without_approval_a_dangerous_command_does_not_run_at_all(ssh, env, sshd, doomed_dir):
    marker = sshd.marker_dir / f"first-half-{uuid.uuid4().hex}"
    command = f"touch {marker} && rm -rf {doomed_dir}"
    for approval in (None, decision(DecisionKind.REJECTED), decision(DecisionKind.EXPIRED)):
        with pytest.raises(ApplicationError, match="outside the writable area"):
            await env.run(ssh.exec, SshExecInput(host="web-1", command=command), approval)
    assert not marker.exists(), "not even the harmless first half ran"
    assert doomed_dir.exists()


async def test_an_approved_dangerous_command_runs(ssh, env, doomed_dir):
    command = f"rm -rf {doomed_dir}"
    result = await env.run(ssh.exec, SshExecInput(host="web-1", command=command), decision(DecisionKind.APPROVED))
    assert result.exit_status == 0
    assert not doomed_dir.exists()


async def test_inline_confirmation_counts_only_when_the_operator_allows_it(
    ssh, ssh_settings, inventory, env, doomed_dir
):
    inputs = SshExecInput(host="web-1", command=f"rm -rf {doomed_dir}", confirm_dangerous=True)
    inline = decision(DecisionKind.INLINE)
    with pytest.raises(ApplicationError, match="decision: inline_confirmed"):
        await env.run(ssh.exec, inputs, inline)  # SSH_ALLOW_INLINE_CONFIRM is off by default
    assert doomed_dir.exists()

    permissive = SshActivities(ssh_settings.model_copy(update={"ssh_allow_inline_confirm": True}), inventory)
    with pytest.raises(ApplicationError):
        await env.run(permissive.exec, inputs.model_copy(update={"confirm_dangerous": False}), inline)
    await env.run(permissive.exec, inputs, inline)
    assert not doomed_dir.exists()


async def test_inputs_handed_over_as_a_plain_dict_are_validated(ssh, env):
    # Temporal drops type hints when a call has fewer arguments than the activity has parameters.
    result = await env.run(ssh.exec, {"host": "web-1", "command": "echo hi"})
    assert result.stdout == "hi\n"


async def test_an_approval_bound_to_other_inputs_runs_nothing(ssh, env, sshd):
    """The activity re-checks the approval's fingerprint against its own inputs, whatever the workflow said."""
    from intents.canonical import fingerprint

    reviewed = SshExecInput(host="recorder", command=f"rm -rf /tmp/reviewed-{uuid.uuid4().hex}")
    swapped = SshExecInput(host="recorder", command=f"rm -rf /tmp/swapped-{uuid.uuid4().hex}")
    approval = decision(DecisionKind.APPROVED).model_copy(
        update={"fingerprint": fingerprint("ssh.exec", reviewed.model_dump(mode="json"))}
    )
    before = sshd.recorded_commands()
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.exec, swapped, approval)
    assert caught.value.type == ErrorType.APPROVAL_MISMATCH and caught.value.non_retryable
    assert sshd.recorded_commands() == before

    result = await env.run(ssh.exec, reviewed, approval)
    assert result.exit_status == 0 and sshd.recorded_commands()[-1] == reviewed.command
