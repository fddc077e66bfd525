"""An n8n flow fails and echoes our shared secret (N8N_WEBHOOK_SECRET) back, plainly or encoded: the
caller still learns why it failed, and the secret is in none of the HTTP answer, GET /jobs/{id}, the
workflow's history or the logs."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from tests.support.leaks import captured_logs, history_text, leaks
from tests.support.n8n_fake import FakeN8n, Scripted
from tests.support.stack import isolated_stack, poll_job

SECRET = "n8n-shared-secret-7f3a91"


@pytest.fixture
def n8n():
    fake = FakeN8n(secret=SECRET).start()
    yield fake
    fake.stop()


def echoes(secret: str) -> dict[str, tuple[Scripted, str, str]]:
    """Ways a misbehaving flow says our secret back: (its answer, the error type, a word the error keeps)."""
    basic = base64.b64encode(f"orchestrator:{secret}".encode()).decode()
    return {
        "ok-false": (
            Scripted(200, {"ok": False, "error": {"type": "CredentialRejected", "message": f"header was {secret}"}}),
            "ToolError",
            "CredentialRejected",
        ),
        "403-encoded": (
            Scripted(
                403, text=f"denied: Authorization: Basic {basic}, got ?s={quote(secret, safe='')} and Bearer {secret}"
            ),
            "UpstreamAuthError",
            "denied",
        ),
        "not-json": (
            Scripted(200, text=f"<html>secret={secret}</html>", content_type="text/html"),
            "UpstreamProtocolError",
            "html",
        ),
    }


@pytest.mark.parametrize("case", ["ok-false", "403-encoded", "not-json"])
async def test_a_flow_that_echoes_the_shared_secret_fails_without_repeating_it(client, settings, n8n, unique, case):
    answer, error_type, kept_word = echoes(SECRET)[case]
    n8n.script("digest-daily", answer)
    overrides = dict(
        n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr(SECRET), n8n_timeout_s=2, sync_timeout_s=30
    )

    with captured_logs() as logs:
        async with isolated_stack(client, settings, **overrides) as (http, _):
            resp = await http.post(
                "/orchestrate",
                json={"intent": "digest.daily", "inputs": {}},
                headers={"Idempotency-Key": f"{unique}-{case}"},
            )
            job_id = resp.json()["job_id"]
            job = await poll_job(http, job_id)

    assert resp.status_code == 502 and resp.json()["error"]["type"] == error_type
    assert kept_word in resp.json()["error"]["message"] and "[redacted]" in resp.json()["error"]["message"]
    assert job["status"] == "error" and job["error"]["type"] == error_type
    history = await history_text(client, job_id)
    assert "[redacted]" in history, "the history records the scrubbed failure"
    assert "Completing activity as failed" in logs.getvalue(), "the logs hold the worker's line about the failure"
    for where, text in {
        "HTTP answer": resp.text,
        "GET /jobs": json.dumps(job),
        "history": history,
        "logs": logs.getvalue(),
    }.items():
        assert leaks(SECRET, text) == [], where
