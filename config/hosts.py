"""The SSH host inventory: the only machines ssh.* intents may reach, by name.

Requests name a host; the address, user, key and known_hosts come from here, so an address in a
request is never dialled. The inventory is a YAML file (`Settings.ssh_hosts_file`, default
`config/ssh_hosts.yaml` when present); `config/ssh_hosts.example.yaml` documents the format:

    hosts:
      web-1:
        address: 10.0.0.5
        user: deploy
        key_file: ~/.ssh/orchestrator_ed25519
        known_hosts_file: ~/.ssh/known_hosts
        zone: dc1            # optional: only a worker started with `--zone dc1` runs its commands

Relative paths in the file are resolved against the file's own directory.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.errors import NotConfigured
from config.settings import Settings

DEFAULT_INVENTORY_FILE = Path(__file__).with_name("ssh_hosts.yaml")

HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]{0,31}$")
# A Temporal task queue name we are willing to route to (no spaces or control characters).
ZONE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class InventoryError(ValueError):
    """The inventory file is missing or malformed: a configuration mistake, reported loudly at start-up."""


class SshHost(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=HOST_NAME.pattern, description="What requests call this host.")
    address: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_-]+$", description="DNS name or IP.")
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(pattern=USER_NAME.pattern)
    key_file: Path = Field(description="Private key of the client (unencrypted, readable by the worker).")
    known_hosts_file: Path = Field(
        default=Path("~/.ssh/known_hosts"),
        validate_default=True,  # so the default's `~` is expanded too
        description="OpenSSH known_hosts holding this host's key.",
    )
    zone: str | None = Field(
        default=None, pattern=ZONE_NAME.pattern, description="Task queue of the zone worker; None = default queue."
    )
    connect_timeout_s: float = Field(default=10, gt=0, le=60, description="TCP connect + handshake + auth.")
    command_timeout_s: float = Field(default=60, gt=0, le=600, description="Longest a command may run.")
    writable: tuple[str, ...] = Field(
        default=(),
        description="Directories ssh.exec may change without approval (delete, write, chmod, ... inside them). "
        "Empty by default: every write waits for a human.",
    )
    auto_approve: tuple[str, ...] = Field(
        default=(),
        description="Routine commands that run without approval, as argv patterns "
        "(`systemctl restart myapp`; each word is a shell-style pattern matched against one argument).",
    )

    @field_validator("writable")
    @classmethod
    def _absolute_areas(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for path in v:
            if not path.startswith("/") or ".." in path.split("/") or path.strip("/") == "":
                raise ValueError(f"writable path {path!r} must be an absolute directory other than / without '..'")
        return v

    @field_validator("auto_approve")
    @classmethod
    def _argv_patterns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            try:
                words = shlex.split(pattern)
            except ValueError as err:
                raise ValueError(f"auto_approve pattern {pattern!r}: {err}") from None
            if not words or any(ch in words[0] for ch in "*?["):
                raise ValueError(f"auto_approve pattern {pattern!r} must start with a literal program name")
        return v

    _expand = field_validator("key_file", "known_hosts_file")(classmethod(lambda cls, v: Path(v).expanduser()))


class Inventory:
    """Hosts by name. `get` is the single place an unknown name turns into a 400."""

    def __init__(self, hosts: list[SshHost] | None = None):
        self._hosts: dict[str, SshHost] = {}
        for host in hosts or []:
            if host.name in self._hosts:
                raise InventoryError(f"host {host.name!r} is declared twice")
            self._hosts[host.name] = host

    def names(self) -> list[str]:
        return sorted(self._hosts)

    def get(self, name: str) -> SshHost:
        try:
            return self._hosts[name]
        except KeyError:
            known = self.names()
            listing = ", ".join(known) if known else "none are configured (see SSH_HOSTS_FILE)"
            # The name sent is not repeated: nothing a client sends is echoed.
            raise NotConfigured(
                "host", name, f"unknown host; known hosts: {listing}", field="host", known=known
            ) from None

    def __iter__(self) -> Iterator[SshHost]:
        return iter(self._hosts[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._hosts)


def inventory_path(settings: Settings) -> Path | None:
    if settings.ssh_hosts_file is not None:
        return settings.ssh_hosts_file.expanduser()
    return DEFAULT_INVENTORY_FILE if DEFAULT_INVENTORY_FILE.exists() else None


def parse_inventory(text: str, base_dir: Path) -> Inventory:
    """Build an Inventory from YAML text; relative paths are taken from `base_dir`."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise InventoryError(f"inventory is not valid YAML: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("hosts") or {}, dict):
        raise InventoryError("inventory must be a mapping with `hosts: {name: {address, user, key_file, ...}}`")
    hosts = []
    for name, entry in (doc.get("hosts") or {}).items():
        if not isinstance(entry, dict):
            raise InventoryError(f"host {name!r}: expected a mapping of settings")
        try:
            host = SshHost.model_validate({**entry, "name": str(name)})
        except ValidationError as err:
            raise InventoryError(f"host {name!r}: {_problems(err)}") from None
        hosts.append(
            host.model_copy(
                update={
                    "key_file": base_dir / host.key_file,
                    "known_hosts_file": base_dir / host.known_hosts_file,
                }
            )
        )
    return Inventory(hosts)


def _problems(err: ValidationError) -> str:
    """pydantic's errors as `field: reason; ...`, without the submitted values."""
    out = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "host"
        reason = e["msg"]
        if e["type"] != "missing" and e.get("input") in ("", None):
            reason = "is empty" + (
                " (was $USER unset when the file was written? use $(id -un))" if field == "user" else ""
            )
        out.append(f"{field}: {reason}")
    return "; ".join(out)


def load_inventory(settings: Settings) -> Inventory:
    """Read the configured inventory; an explicitly configured but missing file is an error.
    Every InventoryError names the setting and file: `SSH_HOSTS_FILE (path): host 'x': field: reason`."""
    path = inventory_path(settings)
    if path is None:
        return Inventory()
    try:
        text = path.read_text()
    except OSError as err:
        raise InventoryError(f"SSH_HOSTS_FILE ({path}): cannot read SSH inventory: {err.strerror}") from None
    try:
        return parse_inventory(text, path.parent)
    except InventoryError as err:
        raise InventoryError(f"SSH_HOSTS_FILE ({path}): {err}") from None


_cached: dict[Path | None, tuple[int, Inventory]] = {}


def inventory_for(settings: Settings) -> Inventory:
    """The inventory of `settings`, re-read only when its file changes (the gateway's prechecks use this)."""
    path = inventory_path(settings)
    stamp = os.stat(path).st_mtime_ns if path is not None and path.exists() else 0
    cached = _cached.get(path)
    if cached is None or cached[0] != stamp:
        cached = _cached[path] = (stamp, load_inventory(settings))
    return cached[1]
