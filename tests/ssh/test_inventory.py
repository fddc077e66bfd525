"""The SSH host inventory: requests name a host; unknown names get a 400 that lists the known ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from config.errors import NotConfigured
from config.hosts import DEFAULT_INVENTORY_FILE, InventoryError, load_inventory
from intents.errors import ErrorType
from intents.spec import rejected_lookup

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "ssh_hosts.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    return path


def test_an_operator_lists_hosts_by_name_with_paths_relative_to_the_file(tmp_path):
    path = write(
        tmp_path,
        """
hosts:
  web-1:
    address: 10.0.0.5
    user: deploy
    key_file: keys/orchestrator
    known_hosts_file: keys/known_hosts
    zone: dc1
  db-1:
    address: db.internal
    port: 2222
    user: ops
    key_file: /etc/orchestrator/id_ed25519
""",
    )
    inventory = load_inventory(Settings(ssh_hosts_file=path))
    assert inventory.names() == ["db-1", "web-1"]
    web = inventory.get("web-1")
    assert (web.address, web.port, web.zone) == ("10.0.0.5", 22, "dc1")
    assert web.key_file == tmp_path / "keys/orchestrator"
    db = inventory.get("db-1")
    assert db.key_file == Path("/etc/orchestrator/id_ed25519") and db.zone is None
    assert db.known_hosts_file == Path("~/.ssh/known_hosts").expanduser()


def test_an_unknown_host_is_refused_with_the_known_names(tmp_path):
    path = write(tmp_path, "hosts:\n  web-1: {address: 10.0.0.5, user: deploy, key_file: k}\n")
    with pytest.raises(NotConfigured) as caught:
        load_inventory(Settings(ssh_hosts_file=path)).get("10.0.0.9")
    assert rejected_lookup(caught.value).error_type == ErrorType.UNKNOWN_HOST
    assert caught.value.field == "host"
    assert "web-1" in str(caught.value)
    assert rejected_lookup(caught.value).details == {"known_hosts": ["web-1"]}


def test_without_a_file_there_are_no_hosts_and_the_answer_says_how_to_add_them(monkeypatch):
    if DEFAULT_INVENTORY_FILE.exists():  # a developer's local inventory must not change this story
        monkeypatch.setattr("config.hosts.DEFAULT_INVENTORY_FILE", Path("/nonexistent/ssh_hosts.yaml"))
    inventory = load_inventory(Settings(ssh_hosts_file=None))
    assert len(inventory) == 0
    with pytest.raises(NotConfigured, match="SSH_HOSTS_FILE"):
        inventory.get("web-1")


def test_mistakes_in_the_file_are_reported_loudly(tmp_path):
    with pytest.raises(InventoryError, match="cannot read"):
        load_inventory(Settings(ssh_hosts_file=tmp_path / "missing.yaml"))
    bad_address = write(tmp_path, "hosts:\n  web-1: {address: 'a b; rm', user: deploy, key_file: k}\n")
    with pytest.raises(InventoryError, match="web-1"):
        load_inventory(Settings(ssh_hosts_file=bad_address))
    unknown_field = write(tmp_path, "hosts:\n  web-1: {address: x, user: deploy, key_file: k, password: hunter2}\n")
    with pytest.raises(InventoryError, match="password"):
        load_inventory(Settings(ssh_hosts_file=unknown_field))


def test_the_shipped_example_is_valid():
    inventory = load_inventory(Settings(ssh_hosts_file=EXAMPLE))
    assert len(inventory) >= 1
