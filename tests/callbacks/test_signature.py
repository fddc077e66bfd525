"""Receivers can tell a genuine callback from a forged, altered or replayed one."""

from __future__ import annotations

from intents.callbacks import callback_body, sign, signed_headers, verify_signature

SECRET = "s3cret"
BODY = callback_body({"job_id": "orch-1", "status": "success"})
NOW = 1_800_000_000


def test_a_genuine_callback_verifies_whatever_the_header_case():
    headers = signed_headers(SECRET, "orch-1", BODY, now=NOW)
    assert verify_signature(SECRET, BODY, headers, now=NOW + 10)
    assert verify_signature(SECRET, BODY, {k.upper(): v for k, v in headers.items()}, now=NOW)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"


def test_forged_altered_or_replayed_callbacks_fail():
    headers = signed_headers(SECRET, "orch-1", BODY, now=NOW)
    assert not verify_signature("other-secret", BODY, headers, now=NOW)
    assert not verify_signature(SECRET, BODY.replace(b"success", b"failure"), headers, now=NOW)
    assert not verify_signature(SECRET, BODY, headers, now=NOW + 3600)  # replayed an hour later
    moved = headers | {"X-Orchestrator-Timestamp": str(NOW + 3600)}
    assert not verify_signature(SECRET, BODY, moved, now=NOW + 3600)  # timestamp is signed too
    assert not verify_signature(SECRET, BODY, {}, now=NOW)
    assert not verify_signature(SECRET, BODY, {"X-Orchestrator-Timestamp": "soon"}, now=NOW)
