"""A real OpenSSH sshd on 127.0.0.1 for tests: throwaway host key, client keys and known_hosts.

    with RealSshd(tmp_path) as sshd:
        inventory = sshd.write_inventory(tmp_path / "hosts.yaml", {"web-1": sshd.host_entry()})

It runs `/usr/sbin/sshd -D -e -f <config>` as the current user (root in CI) on a free port, with
StrictModes/UsePAM off and everything under one temp dir. Two client keys are authorized:
- `client_key`: a normal login; commands really run (on this machine, as this user);
- `recorder_key`: forced to a script that only appends the requested command to `recorder_log`
  and runs nothing, so a test can prove a command never reached a host without ever risking
  that it runs here.
`known_hosts` trusts the server's real host key; `wrong_known_hosts` pins a different key for the
same address, as after a server swap or a man in the middle.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from pathlib import Path

import yaml

from worker.devserver import free_port

SSHD = "/usr/sbin/sshd"


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def _public(path: Path) -> str:
    """`type base64` of a key pair's public half (drops the comment)."""
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


class RealSshd:
    def __init__(self, root: Path, *, user: str | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.address = "127.0.0.1"
        self.user = user or getpass.getuser()
        self.port = 0
        self.marker_dir = self.root / "markers"
        self.recorder_log = self.marker_dir / "recorded-commands.log"
        self.log_file = self.root / "sshd.log"
        self._proc: subprocess.Popen | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> RealSshd:
        if not Path(SSHD).exists():
            raise RuntimeError(f"{SSHD} is missing: install openssh-server (`.ci/run` does)")
        self.marker_dir.mkdir(exist_ok=True)
        self.marker_dir.chmod(0o777)
        self.recorder_log.touch()
        self.host_key = keygen(self.root / "ssh_host_ed25519_key", "test-host")
        self.impostor_key = keygen(self.root / "impostor_host_key", "impostor-host")
        self.client_key = keygen(self.root / "client_key", "test-client")
        self.recorder_key = keygen(self.root / "recorder_key", "test-recorder")
        recorder = self.root / "record-command.sh"
        recorder.write_text(f'#!/bin/sh\nprintf "%s\\n" "$SSH_ORIGINAL_COMMAND" >> "{self.recorder_log}"\n')
        recorder.chmod(0o755)
        (self.root / "authorized_keys").write_text(
            f"{_public(self.client_key)} test-client\n"
            f'command="{recorder}",restrict {_public(self.recorder_key)} test-recorder\n'
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        for _attempt in range(3):  # the free port may be taken between picking and binding
            self.port = free_port()
            self._write_config()
            self._write_known_hosts()
            if self._launch():
                return self
        raise RuntimeError(f"sshd did not start; log:\n{self.log_file.read_text()}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def __enter__(self) -> RealSshd:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests use --------------------------------------------------------------------------

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def wrong_known_hosts(self) -> Path:
        return self.root / "known_hosts.wrong"

    def host_entry(self, **overrides) -> dict:
        """One inventory entry (the YAML mapping's value) for this server; override any field."""
        entry = {
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "key_file": str(self.client_key),
            "known_hosts_file": str(self.known_hosts),
            "connect_timeout_s": 5,
            "command_timeout_s": 20,
            # Tests write their marker files here without an approval; everything else is held.
            "writable": [str(self.marker_dir)],
        }
        return entry | overrides

    def recorder_entry(self, **overrides) -> dict:
        """An entry whose commands are only recorded in `recorder_log`, never run."""
        return self.host_entry(key_file=str(self.recorder_key)) | overrides

    def recorded_commands(self) -> list[str]:
        return self.recorder_log.read_text().splitlines()

    @staticmethod
    def write_inventory(path: Path, hosts: dict[str, dict]) -> Path:
        Path(path).write_text(yaml.safe_dump({"hosts": hosts}, sort_keys=False))
        return Path(path)

    # --- internals -------------------------------------------------------------------------------

    def _write_config(self) -> None:
        (self.root / "sshd_config").write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.address}",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                    f"AllowUsers {self.user}",
                    "StrictModes no",
                    "UsePAM no",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "AllowTcpForwarding no",
                    "X11Forwarding no",
                    "PrintMotd no",
                    "UseDNS no",
                    "MaxStartups 200",
                    "MaxSessions 50",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )

    def _write_known_hosts(self) -> None:
        pattern = f"[{self.address}]:{self.port}"
        self.known_hosts.write_text(f"{pattern} {_public(self.host_key)}\n")
        self.wrong_known_hosts.write_text(f"{pattern} {_public(self.impostor_key)}\n")

    def _launch(self) -> bool:
        with self.log_file.open("ab") as log:
            self._proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if _banner(self.address, self.port).startswith(b"SSH-2.0-"):
                return True
            time.sleep(0.05)
        self.stop()
        return False


def _banner(address: str, port: int) -> bytes:
    try:
        with socket.create_connection((address, port), timeout=0.5) as sock:
            return sock.recv(64)
    except OSError:
        return b""
