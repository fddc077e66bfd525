"""ssh.preflight: what the workflow learns before running anything (risks, inline consent, zone)."""

from __future__ import annotations

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from activities.ssh import SshActivities
from intents.errors import ErrorType
from intents.ssh import SshExecInput, SshPeekInput


def as_the_worker_decodes_it(inputs, type_hint):
    """Round-trip through the pydantic converter, as when the workflow passes the intent's inputs."""
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(converter.to_payloads([inputs]), [type_hint])[0]


async def test_a_safe_command_needs_no_approval(ssh, env, ssh_settings):
    pre = await env.run(ssh.preflight, SshExecInput(host="web-1", command="systemctl status nginx | head -n 5"))
    assert pre.risks == [] and not pre.inline_confirmed
    assert pre.task_queue is None and pre.target == "web-1"
    assert pre.approval_timeout_s == ssh_settings.ssh_approval_timeout_s


async def test_a_dangerous_command_reports_its_risks(ssh, env):
    pre = await env.run(ssh.preflight, SshExecInput(host="web-1", command="sudo reboot", confirm_dangerous=True))
    assert pre.risks == ["reboot reboots the host"]
    assert not pre.inline_confirmed  # confirm_dangerous is ignored while SSH_ALLOW_INLINE_CONFIRM is off


async def test_routine_writes_the_operator_listed_run_without_approval_on_that_host_only(ssh, env):
    routine = await env.run(ssh.preflight, SshExecInput(host="routine", command="systemctl restart nginx"))
    assert routine.risks == []
    elsewhere = await env.run(ssh.preflight, SshExecInput(host="web-1", command="systemctl restart nginx"))
    assert elsewhere.risks and "restart" in elsewhere.risks[0]
    longer = await env.run(ssh.preflight, SshExecInput(host="routine", command="systemctl restart nginx sshd"))
    assert longer.risks, "a pattern matches whole argvs, not prefixes"


async def test_inline_confirmation_needs_both_the_flag_and_the_setting(ssh_settings, inventory, env):
    permissive = SshActivities(ssh_settings.model_copy(update={"ssh_allow_inline_confirm": True}), inventory)
    confirmed = await env.run(
        permissive.preflight, SshExecInput(host="web-1", command="reboot", confirm_dangerous=True)
    )
    assert confirmed.inline_confirmed
    unconfirmed = await env.run(permissive.preflight, SshExecInput(host="web-1", command="reboot"))
    assert not unconfirmed.inline_confirmed and unconfirmed.risks


async def test_a_zoned_host_names_its_task_queue(ssh, env):
    pre = await env.run(ssh.preflight, SshExecInput(host="web-1-zoned", command="uptime"))
    assert pre.task_queue == "dc1"


async def test_a_peek_request_passes_through_the_same_preflight(ssh, env):
    decoded = as_the_worker_decodes_it(SshPeekInput(host="web-1-zoned", command="df -h"), SshExecInput)
    assert decoded == SshExecInput(host="web-1-zoned", command="df -h", confirm_dangerous=False)
    pre = await env.run(ssh.preflight, decoded)
    assert pre.risks == [] and pre.task_queue == "dc1"


async def test_an_unknown_host_fails_the_preflight(ssh, env):
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.preflight, SshExecInput(host="nope", command="uptime"))
    assert caught.value.type == ErrorType.UNKNOWN_HOST and caught.value.non_retryable
