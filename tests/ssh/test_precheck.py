"""Gateway-side prechecks of the ssh.* intents (they read the inventory of the process's settings)."""

from __future__ import annotations

import pytest

from config.settings import get_settings
from intents import registry
from intents.errors import ErrorType
from intents.spec import RequestRejected


@pytest.fixture
def gateway_inventory(monkeypatch, inventory_file):
    monkeypatch.setenv("SSH_HOSTS_FILE", str(inventory_file))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def precheck(intent: str, **inputs) -> None:
    spec = registry.get(intent)
    spec.precheck(registry.validate_inputs(spec, inputs))


def test_a_good_peek_and_a_good_exec_pass(gateway_inventory):
    precheck("ssh.exec.peek", host="web-1", command="df -h")
    precheck("ssh.exec", host="web-1", command="rm -rf /tmp/x")  # dangerous is not invalid: it waits for approval


def test_a_peek_with_shell_syntax_is_a_400_naming_the_reason(gateway_inventory):
    with pytest.raises(RequestRejected) as caught:
        precheck("ssh.exec.peek", host="web-1", command="df -h; reboot")
    assert caught.value.error_type == ErrorType.UNSAFE_COMMAND and "';'" in str(caught.value)


def test_an_unknown_host_is_a_400_listing_the_known_ones(gateway_inventory):
    for intent in ("ssh.exec.peek", "ssh.exec"):
        with pytest.raises(RequestRejected) as caught:
            precheck(intent, host="192.168.1.1", command="uptime")
        assert caught.value.error_type == ErrorType.UNKNOWN_HOST
        assert "web-1" in caught.value.details["known_hosts"]


def test_exec_refuses_a_nul_byte(gateway_inventory):
    with pytest.raises(RequestRejected, match="NUL"):
        precheck("ssh.exec", host="web-1", command="echo a\x00b")


def test_the_web_ui_summary_names_command_and_host():
    spec = registry.get("ssh.exec.peek")
    inputs = registry.validate_inputs(spec, {"host": "web-1", "command": "df -h"})
    assert spec.summary_for(inputs) == 'ssh.exec.peek: "df -h" on web-1'
