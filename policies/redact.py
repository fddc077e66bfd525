"""Secret redaction: the one place that decides what must never leave the process.

Two tools, used everywhere (gateway static_details, log lines, every activity that reads a peer):

- `redact_keys(value)`: values under secret-looking *keys* (`password`, `api_key`, `Authorization`,
  `Cookie`, ...) become `***`. For data whose shape we know: request inputs, log fields.
- `scrub(value, secrets)`: every occurrence of a *configured secret value* (see `secret_values`)
  becomes `[redacted]`, in text and in nested JSON-like values. For data whose shape we do not know:
  whatever an n8n flow, an LLM, an MCP tool, a callback receiver or an SSH command sends back. A peer
  that echoes our credential must not carry it into a result, an error (Temporal history), or a log.

`scrub` also catches the simple encodings a peer could echo: the URL-encoding (upper- or lower-case
hex, `+` for spaces), the base64 (standard and URL-safe, whole or embedded at any byte offset, as in
`Basic base64(user:secret)`) and the JSON-escaped form. `Bearer <secret>` becomes `Bearer [redacted]`.

Secrets shorter than `MIN_SECRET_CHARS` are ignored: scrubbing a 3-letter "secret" such as `dev`
would rewrite every `dev` in every result and hide nothing an attacker could not guess anyway.

Cost: it runs on every peer response, so it is linear in the text. The variants of a set of secrets
are computed once (cached per set); each call first looks for each variant with `str.__contains__`
(a C substring search, O(len(text)) per variant), and only when some are present runs one compiled
pattern of just those (also cached) to replace them, longest first. No per-call regex is built.

Pure: standard library only (settings are read by duck typing, so not even pydantic is imported).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"  # what a configured secret value becomes, wherever it was found
MASK = "***"  # what a value under a secret-looking key becomes
MIN_SECRET_CHARS = 6

# Key names whose values are secrets. Word-ish boundaries keep `max_tokens`, `author`, `passenger`
# and `bypass_cache` readable; `_`, `-`, `.` and case changes separate words (`apiKey`, `X-Api-Key`).
SECRET_KEY = re.compile(
    r"""
      passw(?:or)?d | passphrase | (?:^|[^a-z])pass(?:$|[^a-z])
    | secret
    | token(?![a-z])
    | api[_.-]?key | access[_.-]?key | private[_.-]?key | signing[_.-]?key
    | authorization | (?:^|[^a-z])auth$
    | cookie | credential | session[_.-]?id
    """,
    re.IGNORECASE | re.VERBOSE,
)
# `Authorization: Bearer abc` style values: the credential after the scheme is a secret on its own.
_AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|bot|apikey)\s+(\S+)$", re.IGNORECASE)


def is_secret_key(name: object) -> bool:
    return bool(SECRET_KEY.search(str(name)))


def redact_keys(value: Any, mask: str = MASK) -> Any:
    """A copy of a JSON-like value with every value under a secret-looking key replaced by `mask`."""
    if isinstance(value, Mapping):
        return {k: mask if is_secret_key(k) else redact_keys(v, mask) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_keys(v, mask) for v in value]
    if hasattr(value, "get_secret_value"):  # pydantic SecretStr: its str() is the mask
        return str(value)
    return value


# --- configured secret values ---------------------------------------------------------------------


def secret_values(settings: object, extra: Iterable[str | None] = ()) -> frozenset[str]:
    """Every secret value the configuration holds, plus `extra` (e.g. per-agent API keys read from env).

    Walks the settings generically, so a new secret setting is covered the day it is added:
    every SecretStr anywhere (API_KEY, CALLBACK_SECRET, LLM_API_KEY, N8N_WEBHOOK_SECRET, METRICS_TOKEN,
    EMBEDDINGS_API_KEY, MCP servers' headers, ...) and every plain string under a secret-looking key
    (an MCP stdio server's `env: {"GITHUB_TOKEN": ...}`). Values shorter than MIN_SECRET_CHARS are dropped.
    """
    found: set[str] = set()
    _collect(settings, "", found, depth=0)
    for value in extra:
        if value:
            _add(value, found)
    return frozenset(v for v in found if len(v) >= MIN_SECRET_CHARS)


def _collect(value: Any, key: str, found: set[str], depth: int) -> None:
    if depth > 8 or value is None:
        return
    if hasattr(value, "get_secret_value"):
        secret = value.get_secret_value()
        if isinstance(secret, (str, bytes)):
            _add(secret.decode(errors="replace") if isinstance(secret, bytes) else secret, found)
        return
    if isinstance(value, str):
        if key and is_secret_key(key):
            _add(value, found)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            _collect(v, str(k), found, depth + 1)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _collect(v, key, found, depth + 1)
        return
    fields = getattr(type(value), "model_fields", None)  # a pydantic model (Settings, McpServerConfig)
    if isinstance(fields, Mapping):
        for name in fields:
            _collect(getattr(value, name, None), name, found, depth + 1)


def _add(secret: str, found: set[str]) -> None:
    secret = secret.strip()
    if not secret:
        return
    found.add(secret)
    if match := _AUTH_SCHEME.match(secret):  # "Bearer abc" configured as a header: "abc" leaks alone too
        found.add(match.group(1))


# --- scrubbing --------------------------------------------------------------------------------------


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every configured secret (and its simple encodings) replaced by REDACTED.

    Strings are scrubbed; dicts (keys and values), lists and tuples are copied with their items
    scrubbed; anything else is returned as it is.
    """
    return scrubber(secrets if isinstance(secrets, frozenset) else frozenset(secrets))(value)


@lru_cache(maxsize=64)
def scrubber(secrets: frozenset[str]) -> Scrubber:
    """The scrubber for one set of secrets, built once (its variants are computed here)."""
    return Scrubber(secrets)


class Scrubber:
    """Callable: `Scrubber(secrets)(value)` is `scrub(value, secrets)`. Cheap to call, costly to build."""

    def __init__(self, secrets: Iterable[str]):
        forms: set[str] = set()
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_CHARS:
                forms |= encodings(secret)
        # Longest first, so a secret containing another is replaced whole.
        self.forms: tuple[str, ...] = tuple(sorted(forms, key=lambda f: (-len(f), f)))

    def __bool__(self) -> bool:
        return bool(self.forms)

    def __call__(self, value: Any) -> Any:
        if not self.forms:
            return value
        return self._value(value, depth=0)

    def text(self, text: str) -> str:
        present = tuple(form for form in self.forms if form in text)
        if not present:
            return text
        return _pattern(present).sub(REDACTED, text)

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth > 64:  # deeper than any real payload; do not let a hostile one recurse forever
            return REDACTED
        if isinstance(value, Mapping):
            return {self._value(k, depth + 1): self._value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return tuple(self._value(v, depth + 1) for v in value)
        return value


@lru_cache(maxsize=256)
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, forms)))


def encodings(secret: str) -> set[str]:
    """The secret and the forms a peer could echo it in; each at least MIN_SECRET_CHARS long."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),  # "/" left as is, like most URL builders
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],  # a peer's JSON body escapes quotes and backslashes
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms |= {_lower_hex(f) for f in list(forms) if "%" in f}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode())  # the secret encoded on its own, padding and all
        for offset in range(3):  # ... or inside a longer encoded string (Basic user:secret)
            forms.add(_embedded_base64(encode, raw, offset))
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


def _embedded_base64(encode, raw: bytes, offset: int) -> str:
    """The base64 characters that depend only on `raw` when it starts `offset` bytes into a stream."""
    encoded = encode(b"\0" * offset + raw).decode()
    first = -(-8 * offset // 6)  # the first character with no bits of the bytes before
    last = 8 * (offset + len(raw)) // 6  # the characters after this mix in the bytes after
    return encoded[first:last]


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)
