"""Async callbacks: the job document POSTed to `callback_url` when a job ends, and its signature.

Signature scheme (what a receiver checks; `verify_signature` does all of it):

    X-Orchestrator-Timestamp: <unix seconds when this attempt was sent>
    X-Orchestrator-Signature: sha256=<hex HMAC-SHA256(CALLBACK_SECRET, timestamp + "." + body)>
    X-Orchestrator-Job-Id:    <job_id>   (also inside the body)

`body` is the exact bytes received (compact, key-sorted UTF-8 JSON); verify before parsing. The
timestamp is signed too, so a captured request cannot be replayed later: reject timestamps more than
a few minutes away from your clock. Each retry is signed afresh; deduplicate on the job id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, SecretStr

CALLBACK_ACTIVITY = "callback.deliver"
SIGNATURE_HEADER = "X-Orchestrator-Signature"
TIMESTAMP_HEADER = "X-Orchestrator-Timestamp"
JOB_ID_HEADER = "X-Orchestrator-Job-Id"
ATTEMPT_HEADER = "X-Orchestrator-Attempt"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300


class CallbackDelivery(BaseModel):
    """The argument of `callback.deliver`: where to, and the final job document."""

    url: str
    job: dict[str, Any]


class CallbackReceipt(BaseModel):
    status_code: int
    attempt: int
    delivered_at: datetime
    host: str = Field(description="Host that accepted the callback (the URL's path and query are not repeated).")


def callback_body(job: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact, key-sorted JSON."""
    return json.dumps(job, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str).encode()


def _key(secret: str | bytes | SecretStr) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes | SecretStr, timestamp: int, body: bytes) -> str:
    digest = hmac.new(_key(secret), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(
    secret: str | bytes | SecretStr, job_id: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        JOB_ID_HEADER: job_id,
    }


def verify_signature(
    secret: str | bytes | SecretStr,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when `body` was signed with `secret` within `tolerance_s` of now. For receivers."""
    lower = {name.lower(): value for name, value in headers.items()}
    signature = lower.get(SIGNATURE_HEADER.lower(), "")
    try:
        timestamp = int(lower.get(TIMESTAMP_HEADER.lower(), ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature, sign(secret, timestamp, body))
