"""SSH fixtures: one real sshd for the session, an inventory pointing at it, and the activities."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.ssh import SshActivities
from config import Settings
from config.hosts import Inventory, load_inventory
from tests.support.sshd import RealSshd


class AcceptCounter:
    """A loopback TCP listener that counts connections and hangs up: proof of "nothing was dialled"."""

    def __init__(self):
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory) -> RealSshd:
    with RealSshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def trap() -> AcceptCounter:
    counter = AcceptCounter()
    yield counter
    counter.close()


@pytest.fixture(scope="session")
def inventory_file(sshd: RealSshd, trap: AcceptCounter, tmp_path_factory) -> Path:
    return sshd.write_inventory(
        tmp_path_factory.mktemp("inventory") / "ssh_hosts.yaml",
        {
            "web-1": sshd.host_entry(),
            "recorder": sshd.recorder_entry(),
            "web-1-zoned": sshd.host_entry(zone="dc1"),
            "impostor": sshd.host_entry(known_hosts_file=str(sshd.wrong_known_hosts)),
            "stranger": sshd.host_entry(key_file=str(sshd.impostor_key)),  # a key sshd does not authorize
            "quick": sshd.host_entry(command_timeout_s=1),
            "routine": sshd.host_entry(auto_approve=["systemctl restart nginx"]),
            "trap": sshd.host_entry(port=trap.port, connect_timeout_s=2),
        },
    )


@pytest.fixture(scope="session")
def ssh_settings(inventory_file: Path) -> Settings:
    return Settings(ssh_hosts_file=inventory_file, ssh_max_output_chars=1000)


@pytest.fixture(scope="session")
def inventory(ssh_settings: Settings) -> Inventory:
    return load_inventory(ssh_settings)


@pytest.fixture(scope="session")
def ssh(ssh_settings: Settings, inventory: Inventory) -> SshActivities:
    return SshActivities(ssh_settings, inventory)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()
