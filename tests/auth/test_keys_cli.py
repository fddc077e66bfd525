"""An operator manages keys with `gpt-orchestrator keys`: a new key is printed once, only its hash is
stored (in a 0600 file), `list` never shows a key, and revoke/rotate change what the file holds."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.api_keys import TOKEN_SHAPE, hash_token, load_keys
from tests.support.processes import REPO


def keys(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_KEY", "DATA_DIR"))}
    env |= {"PYTHONPATH": str(REPO), "API_KEYS_FILE": str(tmp_path / "keys.yaml"), "DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", "keys", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_add_prints_the_key_once_and_stores_only_its_hash(tmp_path):
    done = keys(
        tmp_path,
        "add",
        "chatgpt",
        "--role",
        "caller",
        "--tenant",
        "acme",
        "--rate",
        "30/min",
        "--expires",
        "2099-12-31",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert TOKEN_SHAPE.match(token), "stdout is the key and nothing else (KEY=$(... keys add ...))"
    assert "shown once" in done.stderr and token not in done.stderr

    file = tmp_path / "keys.yaml"
    text = file.read_text()
    assert token not in text and token[4:] not in text, "the file never holds the key"
    assert hash_token(token) in text
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    [key] = load_keys(file).keys
    assert (key.name, key.role, key.tenant, key.rate, str(key.expires)) == (
        "chatgpt",
        "caller",
        "acme",
        "30/min",
        "2099-12-31",
    )
    assert load_keys(file).match(token) == key


def test_list_shows_the_grants_and_never_a_key(tmp_path):
    first = keys(tmp_path, "add", "chatgpt", "--role", "caller").stdout.strip()
    second = keys(tmp_path, "add", "alice@example.com", "--role", "approver", "--tenant", "acme").stdout.strip()
    table = keys(tmp_path, "list")
    assert table.returncode == 0
    assert "chatgpt" in table.stdout and "alice@example.com" in table.stdout and "approver" in table.stdout
    rows = json.loads(keys(tmp_path, "list", "--json").stdout)
    assert [(r["name"], r["role"], r["tenant"], r["rate"]) for r in rows] == [
        ("chatgpt", "caller", "default", "120/min"),
        ("alice@example.com", "approver", "acme", "120/min"),
    ]
    assert all(set(r) == {"name", "role", "tenant", "rate", "created", "expires"} for r in rows)
    for token in (first, second):
        for out in (table.stdout + table.stderr, json.dumps(rows)):
            assert token not in out and hash_token(token) not in out and hash_token(token)[7:] not in out


def test_rotate_gives_a_new_secret_for_the_same_grants_and_revoke_removes_the_key(tmp_path):
    old = keys(tmp_path, "add", "ops", "--role", "admin", "--tenant", "acme", "--rate", "5/s").stdout.strip()
    rotated = keys(tmp_path, "rotate", "ops")
    new = rotated.stdout.strip()
    assert rotated.returncode == 0 and TOKEN_SHAPE.match(new) and new != old
    store = load_keys(tmp_path / "keys.yaml")
    assert store.match(old) is None and store.match(new).name == "ops"
    assert (store.match(new).role, store.match(new).tenant, store.match(new).rate) == ("admin", "acme", "5/s")

    revoked = keys(tmp_path, "revoke", "ops")
    assert revoked.returncode == 0 and revoked.stdout == ""
    assert load_keys(tmp_path / "keys.yaml").keys == ()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["add", "dup", "--role", "caller"], "exists"),
        (["add", "api-key", "--role", "caller"], "bootstrap"),
        (["add", "bad name", "--role", "caller"], "name"),
        (["add", "x", "--role", "caller", "--tenant", "Not A Tenant"], "tenant"),
        (["revoke", "nobody"], "no key named"),
        (["rotate", "nobody"], "no key named"),
    ],
)
def test_mistakes_are_named_and_change_nothing(tmp_path, args, says):
    keys(tmp_path, "add", "dup", "--role", "caller")
    before = (tmp_path / "keys.yaml").read_text()
    done = keys(tmp_path, *args)
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert (tmp_path / "keys.yaml").read_text() == before


@pytest.mark.parametrize(
    "args", [["--role", "root"], ["--role", "caller", "--rate", "fast"], ["--role", "caller", "--expires", "soon"]]
)
def test_bad_options_are_refused_by_the_parser(tmp_path, args):
    done = keys(tmp_path, "add", "x", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "keys.yaml").exists()
