"""How SSH failures surface: trust and auth problems stop at once, an unreachable host is retried."""

from __future__ import annotations

import getpass

import pytest
from temporalio.exceptions import ApplicationError

from activities.ssh import SshActivities
from config.hosts import Inventory, SshHost
from intents.errors import ErrorType
from intents.ssh import SshPeekInput
from worker.devserver import free_port


async def peek_error(ssh, env, host: str) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await env.run(ssh.peek, SshPeekInput(host=host, command="uptime"))
    return caught.value


async def test_a_server_with_the_wrong_host_key_is_refused(ssh, env, sshd):
    err = await peek_error(ssh, env, "impostor")
    assert err.type == ErrorType.HOST_KEY_MISMATCH and err.non_retryable
    assert "refusing to connect" in err.message


async def test_a_key_the_server_does_not_authorize_is_not_retried(ssh, env):
    err = await peek_error(ssh, env, "stranger")
    assert err.type == ErrorType.SSH_AUTH and err.non_retryable


def single_host_activities(settings, **fields) -> SshActivities:
    host = SshHost(
        **{"name": "h", "address": "127.0.0.1", "user": getpass.getuser(), "key_file": "/nonexistent"} | fields
    )
    return SshActivities(settings, Inventory([host]))


async def test_a_refused_connection_is_retryable(ssh_settings, sshd, env):
    ssh = single_host_activities(
        ssh_settings, port=free_port(), key_file=sshd.client_key, known_hosts_file=sshd.known_hosts
    )
    err = await peek_error(ssh, env, "h")
    assert err.type == ErrorType.UPSTREAM_UNAVAILABLE and not err.non_retryable


async def test_missing_trust_files_stop_before_dialling(ssh_settings, sshd, env, tmp_path):
    no_key = single_host_activities(ssh_settings, port=sshd.port, known_hosts_file=sshd.known_hosts)
    err = await peek_error(no_key, env, "h")
    assert err.type == ErrorType.SSH_AUTH and err.non_retryable and "/nonexistent" in err.message

    no_known_hosts = single_host_activities(
        ssh_settings, port=sshd.port, key_file=sshd.client_key, known_hosts_file=tmp_path / "absent"
    )
    err = await peek_error(no_known_hosts, env, "h")
    assert err.type == ErrorType.HOST_KEY_MISMATCH and err.non_retryable


async def test_the_dev_flag_alone_skips_host_key_verification(ssh_settings, sshd, env):
    dev = ssh_settings.model_copy(update={"ssh_dev_accept_unknown_hosts": True})
    ssh = single_host_activities(dev, port=sshd.port, key_file=sshd.client_key, known_hosts_file=sshd.wrong_known_hosts)
    result = await env.run(ssh.peek, SshPeekInput(host="h", command="whoami"))
    assert result.stdout.strip() == sshd.user
