"""Canonical JSON and the request fingerprint: what an approval and an Idempotency-Key are bound to.

Pure functions shared by the gateway (job IDs, the memo), workflows (the approval gate) and
activities (ssh.exec re-checks the approval against its own inputs).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def canonical_json(value: Any) -> str:
    """Keys sorted, no whitespace, UTF-8 kept: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(intent: str, inputs: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `[intent, inputs]`, inputs validated with defaults filled in."""
    return sha256(canonical_json([intent, inputs]))


# What a job (workflow) id looks like; anything else is not an id, and is never echoed back.
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$")
