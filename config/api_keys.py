"""Named API keys: who may call the gateway, in which role and tenant, how fast.

The store is a YAML file (`API_KEYS_FILE`, default `DATA_DIR/api_keys.yaml`) that holds **hashes
only**. A key is `gpo_` + 43 characters of `secrets.token_urlsafe(32)` (256 random bits), so its
SHA-256 is all the file needs: nothing in it lets anyone call the gateway. `gpt-orchestrator keys
add|list|revoke|rotate` writes it (atomically, mode 0600, under a lock); the gateway re-reads it when
it changes, without a restart.

    version: 1
    keys:
      - name: chatgpt            # recorded as requested_by / approver
        role: caller             # caller | approver | admin
        tenant: default
        rate: 120/min            # the key's token bucket
        created: 2026-11-21T10:00:00Z
        expires: 2027-06-30      # optional: the key works through this day (UTC)
        hash: sha256:4f1c…

Pure: pyyaml, hashlib, hmac, secrets. The gateway (auth, rate limits) and the CLI build on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TOKEN_PREFIX = "gpo_"
HASH_PREFIX = "sha256:"
DEFAULT_TENANT = "default"
DEFAULT_RATE = "120/min"
# The principal of the bootstrap API_KEY (setting): an admin of the default tenant. No named key may take it.
BOOTSTRAP_NAME = "api-key"
FILE_VERSION = 1

# Names end up in search attributes, logs and approvals; tenants also in job IDs and Temporal fairness
# keys (at most 64 bytes). Both are plain words, so no quoting question ever arises.
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
TOKEN_SHAPE = re.compile(r"^gpo_[A-Za-z0-9_-]{43}$")
HASH_SHAPE = re.compile(r"^sha256:[0-9a-f]{64}$")
RATE_SHAPE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
UNIT_NAMES = {1: "s", 60: "min", 3600: "h"}


class Role(StrEnum):
    CALLER = "caller"
    APPROVER = "approver"
    ADMIN = "admin"


class Action(StrEnum):
    """What a route does, as far as roles are concerned. Every route declares exactly one."""

    RUN = "run"  # start intents, GPT workflows and fleets
    READ = "read"  # read jobs, workflows, lists, the intent and agent catalogs, who am I
    CANCEL = "cancel"  # cancel a job or GPT workflow
    DECIDE = "decide"  # approve or reject
    MANAGE = "manage"  # API keys, schedules, every tenant


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CALLER: frozenset({Action.RUN, Action.READ, Action.CANCEL}),
    Role.APPROVER: frozenset({Action.READ, Action.DECIDE}),
    Role.ADMIN: frozenset(Action),
}


def roles_for(action: Action) -> list[Role]:
    """The roles that may do `action`, narrowest first (admin last): what a 403 names."""
    return [role for role in (Role.CALLER, Role.APPROVER, Role.ADMIN) if action in ROLE_ACTIONS[role]]


def may(role: Role, action: Action) -> bool:
    return action in ROLE_ACTIONS[role]


@dataclass(frozen=True)
class Rate:
    """A token bucket: `limit` requests, refilled evenly over `period_s` seconds."""

    limit: int
    period_s: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = RATE_SHAPE.match(text or "")
        if not match:
            raise ValueError("must look like N/min (or N/s, N/h), e.g. 120/min")
        limit, unit = int(match.group(1)), RATE_UNITS[match.group(2)]
        if not 1 <= limit <= 1_000_000:
            raise ValueError("N must be between 1 and 1000000")
        return cls(limit=limit, period_s=unit)

    def __str__(self) -> str:
        return f"{self.limit}/{UNIT_NAMES[self.period_s]}"

    @property
    def per_second(self) -> float:
        return self.limit / self.period_s


def new_token() -> str:
    """A fresh key: the `gpo_` prefix (recognizable in logs, secret scanners) and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the file stores. A plain SHA-256 is enough for 256-bit random tokens (nothing to brute-force)."""
    return HASH_PREFIX + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class ApiKey(BaseModel):
    """One named key, as the file stores it (never the key itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=KEY_NAME.pattern, description="Recorded as requested_by and approver.")
    role: Role
    tenant: str = Field(default=DEFAULT_TENANT, pattern=TENANT_NAME.pattern)
    rate: str = Field(default=DEFAULT_RATE, description="Token bucket, N/s, N/min or N/h.")
    created: datetime = Field(default_factory=_utc_now)
    expires: date | None = Field(default=None, description="Last day (UTC) the key works.")
    hash: str = Field(pattern=HASH_SHAPE.pattern, repr=False)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == BOOTSTRAP_NAME:
            raise ValueError(f"{BOOTSTRAP_NAME!r} is the bootstrap API_KEY's name; pick another")
        return name

    @field_validator("created")
    @classmethod
    def _utc(cls, when: datetime) -> datetime:
        return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when  # a hand-written time is UTC

    @field_validator("rate")
    @classmethod
    def _rate(cls, text: str) -> str:
        return str(Rate.parse(text))

    @property
    def bucket(self) -> Rate:
        return Rate.parse(self.rate)

    def expired(self, today: date | None = None) -> bool:
        return self.expires is not None and (today or datetime.now(timezone.utc).date()) > self.expires

    def listing(self) -> dict[str, str]:
        """What `keys list` and GET /keys show: everything but the hash."""
        return {
            "name": self.name,
            "role": str(self.role),
            "tenant": self.tenant,
            "rate": self.rate,
            "created": self.created.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "expires": self.expires.isoformat() if self.expires else "",
        }

    def stored(self) -> dict:
        return {**self.listing(), "expires": self.expires.isoformat() if self.expires else None, "hash": self.hash}


class KeyFileError(ValueError):
    """The keys file is unreadable or malformed; the message names the setting, file, key and field."""


class KeyNotFound(LookupError):
    pass


class KeyExists(ValueError):
    pass


@dataclass(frozen=True)
class KeyStore:
    """The keys of one file version. Lookups compare against every stored hash in constant time."""

    keys: tuple[ApiKey, ...] = ()

    def match(self, token: str) -> ApiKey | None:
        if not TOKEN_SHAPE.match(token or ""):
            return None
        digest = hash_token(token).encode()
        found = None
        for key in self.keys:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(digest, key.hash.encode()):
                found = key
        return found

    def get(self, name: str) -> ApiKey:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyNotFound(f"no key named {name!r}")

    def names(self) -> list[str]:
        return [k.name for k in self.keys]


def _where(path: Path) -> str:
    return f"API_KEYS_FILE ({path})"


def parse_keys(text: str, path: Path) -> KeyStore:
    """The keys in a file's text; every mistake is a KeyFileError naming key and field."""
    try:
        doc = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise KeyFileError(f"{_where(path)}: not valid YAML{at}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise KeyFileError(f"{_where(path)}: expected a mapping with `keys:`")
    unknown = set(doc) - {"version", "keys"}
    if unknown:
        raise KeyFileError(f"{_where(path)}: unknown top-level field(s) {', '.join(sorted(map(str, unknown)))}")
    if doc.get("version", FILE_VERSION) != FILE_VERSION:
        raise KeyFileError(f"{_where(path)}: version: only version {FILE_VERSION} is understood")
    entries = doc.get("keys")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise KeyFileError(f"{_where(path)}: keys: expected a list")
    keys: list[ApiKey] = []
    for i, entry in enumerate(entries):
        label = (
            f"key {entry.get('name')!r}"
            if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            else f"keys[{i}]"
        )
        if not isinstance(entry, dict):
            raise KeyFileError(f"{_where(path)}: {label}: expected a mapping")
        try:
            keys.append(ApiKey.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ())) or "entry"
            raise KeyFileError(f"{_where(path)}: {label}: {field}: {err.get('msg', 'invalid')}") from None
    seen_names: set[str] = set()
    seen_hashes: set[str] = set()
    for key in keys:
        if key.name in seen_names:
            raise KeyFileError(f"{_where(path)}: key {key.name!r}: name: appears twice")
        if key.hash in seen_hashes:
            raise KeyFileError(f"{_where(path)}: key {key.name!r}: hash: shared with another key")
        seen_names.add(key.name)
        seen_hashes.add(key.hash)
    return KeyStore(tuple(keys))


def load_keys(path: Path) -> KeyStore:
    """The file's keys; a missing file is no named keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeyStore()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{_where(path)}: cannot be read ({type(exc).__name__})") from None
    return parse_keys(text, path)


HEADER = (
    "# gpt-orchestrator API keys: hashes only (a key is shown once, when it is made).\n"
    "# Manage with `gpt-orchestrator keys add|list|revoke|rotate`; the gateway re-reads this file on change.\n"
)


def render_keys(store: KeyStore) -> str:
    body = {"version": FILE_VERSION, "keys": [k.stored() for k in store.keys]}
    return HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def write_keys(path: Path, store: KeyStore) -> None:
    """Replace the file atomically (same-directory temp file, fsync, rename), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_keys(store))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[KeyStore]:
    """Read-modify-write under an exclusive lock (a sibling `.lock` file), so two CLIs never lose a key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield load_keys(path)
    finally:
        os.close(fd)  # closing releases the lock


def add_key(
    path: Path,
    name: str,
    role: Role | str,
    *,
    tenant: str = DEFAULT_TENANT,
    rate: str = DEFAULT_RATE,
    expires: date | None = None,
) -> tuple[str, ApiKey]:
    """Make a key: returns (the key, shown once; what was stored)."""
    token = new_token()
    with locked(path) as store:
        if name in store.names():
            raise KeyExists(f"a key named {name!r} exists (rotate it, or revoke it first)")
        try:
            key = ApiKey(name=name, role=role, tenant=tenant, rate=rate, expires=expires, hash=hash_token(token))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ())) or "key"
            raise ValueError(f"{field}: {err.get('msg', 'invalid')}") from None
        write_keys(path, KeyStore((*store.keys, key)))
    return token, key


def revoke_key(path: Path, name: str) -> ApiKey:
    with locked(path) as store:
        key = store.get(name)
        write_keys(path, KeyStore(tuple(k for k in store.keys if k.name != name)))
    return key


def rotate_key(path: Path, name: str) -> tuple[str, ApiKey]:
    """A new secret for the same name and grants; the old secret stops working at once."""
    token = new_token()
    with locked(path) as store:
        old = store.get(name)
        new = old.model_copy(update={"hash": hash_token(token), "created": _utc_now()})
        write_keys(path, KeyStore(tuple(new if k.name == name else k for k in store.keys)))
    return token, new
