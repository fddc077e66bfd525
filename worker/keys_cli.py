"""`gpt-orchestrator keys add|list|revoke|rotate`: manage the named API keys in API_KEYS_FILE.

A new or rotated key is printed once, alone on stdout (so `KEY=$(gpt-orchestrator keys add …)` works);
what was stored goes to stderr. The file keeps only its SHA-256. A running gateway picks up every
change on its next request.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from config import Settings
from config.api_keys import (
    DEFAULT_RATE,
    DEFAULT_TENANT,
    KeyExists,
    KeyFileError,
    KeyNotFound,
    Rate,
    Role,
    add_key,
    load_keys,
    revoke_key,
    rotate_key,
)

COLUMNS = ("name", "role", "tenant", "rate", "created", "expires")


def _rate(text: str) -> str:
    try:
        return str(Rate.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--rate {exc}") from None


def _expires(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("--expires must be a date, YYYY-MM-DD") from None


def add_parser(sub: argparse._SubParsersAction, handler) -> None:
    keys = sub.add_parser("keys", help="manage named API keys (roles, tenants, rate limits)")
    verbs = keys.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="make a key; it is printed once, only its hash is stored")
    add.add_argument("name", help="recorded as requested_by and approver, e.g. chatgpt or alice@example.com")
    add.add_argument("--role", required=True, choices=[str(r) for r in Role], help="caller | approver | admin")
    add.add_argument("--tenant", default=DEFAULT_TENANT, help=f"the key's tenant (default {DEFAULT_TENANT!r})")
    add.add_argument(
        "--rate", type=_rate, default=DEFAULT_RATE, help=f"token bucket, N/min (or N/s, N/h); default {DEFAULT_RATE}"
    )
    add.add_argument("--expires", type=_expires, help="last day (UTC) the key works, YYYY-MM-DD")
    lst = verbs.add_parser("list", help="name, role, tenant, rate, created, expires (never the key)")
    lst.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    verbs.add_parser("revoke", help="delete a key; it stops working at once").add_argument("name")
    verbs.add_parser(
        "rotate", help="a new secret for the same name and grants; the old one stops working"
    ).add_argument("name")
    keys.set_defaults(fn=handler)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.api_keys_path
    try:
        if args.verb == "add":
            token, key = add_key(path, args.name, args.role, tenant=args.tenant, rate=args.rate, expires=args.expires)
            _show_once(token, f"added {key.name} ({key.role}, tenant {key.tenant}, {key.rate}) to {path}")
        elif args.verb == "rotate":
            token, key = rotate_key(path, args.name)
            _show_once(token, f"rotated {key.name}: the previous key no longer works")
        elif args.verb == "revoke":
            key = revoke_key(path, args.name)
            print(f"revoked {key.name}: it no longer works", file=sys.stderr)
        else:
            _list(load_keys(path), as_json=args.json)
    except (KeyExists, KeyNotFound, KeyFileError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    return 0


def _show_once(token: str, what: str) -> None:
    print(token)
    sys.stdout.flush()
    print(f"{what}\nThis key is shown once and is not stored: copy it now.", file=sys.stderr)


def _list(store, *, as_json: bool) -> None:
    rows = [k.listing() for k in store.keys]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print("no named keys (the bootstrap API_KEY, if set, is an admin of the default tenant)", file=sys.stderr)
        return
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}
    print("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS).rstrip())
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in COLUMNS).rstrip())
