"""The key store on its own: what a well-formed file is, how each mistake in one is named (what
check-config and the gateway's 503 print), and that matching a key never depends on which key it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.api_keys import (
    DEFAULT_TENANT,
    KeyFileError,
    Rate,
    Role,
    add_key,
    hash_token,
    load_keys,
    new_token,
    parse_keys,
    roles_for,
)
from config.api_keys import Action as A

FILE = Path("keys.yaml")
GOOD = "sha256:" + "a" * 64


def test_keys_are_high_entropy_recognizable_and_stored_as_hashes(tmp_path):
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200 and all(t.startswith("gpo_") and len(t) == 47 for t in tokens)
    token, key = add_key(tmp_path / "k.yaml", "ci", Role.CALLER)
    assert key.hash == hash_token(token) and key.tenant == DEFAULT_TENANT and key.rate == "120/min"
    store = load_keys(tmp_path / "k.yaml")
    assert store.match(token) == key
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "", "gpo_", key.hash, "api-key"):
        assert store.match(wrong) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("keys: [", "not valid YAML (line 1)"),
        ("- a\n", "expected a mapping"),
        ("keys: {}\n", "keys: expected a list"),
        ("version: 2\nkeys: []\n", "version: only version 1"),
        ("extra: 1\n", "unknown top-level field(s) extra"),
        (f"keys:\n  - {{name: a, role: root, hash: '{GOOD}'}}\n", "key 'a': role:"),
        (f"keys:\n  - {{name: a, role: caller, tenant: Acme Corp, hash: '{GOOD}'}}\n", "key 'a': tenant:"),
        (f"keys:\n  - {{name: a, role: caller, rate: fast, hash: '{GOOD}'}}\n", "key 'a': rate:"),
        ("keys:\n  - {name: a, role: caller, hash: 'md5:00'}\n", "key 'a': hash:"),
        (f"keys:\n  - {{name: api-key, role: caller, hash: '{GOOD}'}}\n", "bootstrap"),
        (f"keys:\n  - {{name: a, role: caller, hash: '{GOOD}', token: x}}\n", "key 'a': token:"),
        (
            f"keys:\n  - {{name: a, role: caller, hash: '{GOOD}'}}\n  - {{name: a, role: admin, hash: 'sha256:{'b' * 64}'}}\n",
            "key 'a': name: appears twice",
        ),
        (
            f"keys:\n  - {{name: a, role: caller, hash: '{GOOD}'}}\n  - {{name: b, role: admin, hash: '{GOOD}'}}\n",
            "key 'b': hash: shared",
        ),
    ],
)
def test_each_mistake_in_the_file_is_named(text, says):
    with pytest.raises(KeyFileError) as caught:
        parse_keys(text, FILE)
    assert str(caught.value).startswith("API_KEYS_FILE (keys.yaml): ") and says in str(caught.value)


def test_an_empty_or_missing_file_is_no_named_keys(tmp_path):
    assert parse_keys("", FILE).keys == () and load_keys(tmp_path / "absent.yaml").keys == ()


def test_rates_and_roles():
    assert (Rate.parse("120/min"), Rate.parse(" 5 / s "), Rate.parse("1000/hour")) == (
        Rate(120, 60),
        Rate(5, 1),
        Rate(1000, 3600),
    )
    for bad in ("0/min", "10", "10/day", "-1/s", "1.5/min"):
        with pytest.raises(ValueError):
            Rate.parse(bad)
    assert roles_for(A.RUN) == [Role.CALLER, Role.ADMIN] and roles_for(A.DECIDE) == [Role.APPROVER, Role.ADMIN]
    assert roles_for(A.READ) == [Role.CALLER, Role.APPROVER, Role.ADMIN] and roles_for(A.MANAGE) == [Role.ADMIN]
