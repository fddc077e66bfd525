"""Gateway-side prechecks of the ssh.* intents (they read the inventory named by the gateway's settings)."""

from __future__ import annotations

import os
import time

import pytest

from config import Settings
from intents import registry
from intents.errors import ErrorType
from intents.spec import RequestRejected


@pytest.fixture
def gateway_inventory(ssh_settings: Settings) -> Settings:
    return ssh_settings


def precheck(settings: Settings, intent: str, **inputs) -> None:
    spec = registry.get(intent)
    spec.precheck(registry.validate_inputs(spec, inputs), settings)


def test_a_good_peek_and_a_good_exec_pass(gateway_inventory):
    precheck(gateway_inventory, "ssh.exec.peek", host="web-1", command="df -h")
    precheck(
        gateway_inventory, "ssh.exec", host="web-1", command="rm -rf /tmp/x"
    )  # dangerous is not invalid: it waits for approval


def test_a_peek_with_shell_syntax_is_a_400_naming_the_reason(gateway_inventory):
    with pytest.raises(RequestRejected) as caught:
        precheck(gateway_inventory, "ssh.exec.peek", host="web-1", command="df -h; reboot")
    assert caught.value.error_type == ErrorType.UNSAFE_COMMAND and "';'" in str(caught.value)


def test_an_unknown_host_is_a_400_listing_the_known_ones(gateway_inventory):
    for intent in ("ssh.exec.peek", "ssh.exec"):
        with pytest.raises(RequestRejected) as caught:
            precheck(gateway_inventory, intent, host="192.168.1.1", command="uptime")
        assert caught.value.error_type == ErrorType.UNKNOWN_HOST
        assert "web-1" in caught.value.details["known_hosts"]


def test_exec_refuses_a_nul_byte(gateway_inventory):
    with pytest.raises(RequestRejected, match="NUL"):
        precheck(gateway_inventory, "ssh.exec", host="web-1", command="echo a\x00b")


def test_the_web_ui_summary_names_command_and_host():
    spec = registry.get("ssh.exec.peek")
    inputs = registry.validate_inputs(spec, {"host": "web-1", "command": "df -h"})
    assert spec.summary_for(inputs) == 'ssh.exec.peek: "df -h" on web-1'


def test_an_edited_inventory_is_seen_without_a_restart(tmp_path, sshd):
    hosts = sshd.write_inventory(tmp_path / "hosts.yaml", {"web-1": sshd.host_entry()})
    settings = Settings(ssh_hosts_file=hosts)
    with pytest.raises(RequestRejected):
        precheck(settings, "ssh.exec.peek", host="db-1", command="uptime")
    sshd.write_inventory(hosts, {"web-1": sshd.host_entry(), "db-1": sshd.host_entry()})
    os.utime(hosts, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))  # a new mtime even on coarse clocks
    precheck(settings, "ssh.exec.peek", host="db-1", command="uptime")
