"""When n8n misbehaves, the job error says what happened and only transient trouble is retried."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from activities.flows import FlowActivities
from config import Settings
from intents.flows import FlowCall
from tests.support.n8n_fake import CHALLENGE, Scripted

SEARCH = FlowCall(intent="gmail.search", inputs={"query": "invoice"}, job_id="orch-search")


async def failure(env, flows, call=SEARCH) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await env.run(flows.call, call)
    return info.value


async def test_a_500_is_retried_and_the_next_attempt_succeeds(env, flows, n8n):
    n8n.script("gmail-search", Scripted(500, {"message": "Error in workflow"}))
    first = await failure(env, flows)
    assert first.type == "UpstreamUnavailable" and not first.non_retryable
    assert "500" in first.message and "Error in workflow" in first.message
    second = await env.run(flows.call, SEARCH)
    assert second["found"] == 1
    assert [r.headers["idempotency-key"] for r in n8n.calls("gmail-search")] == ["orch-search", "orch-search"]


async def test_a_400_is_not_retried(env, flows, n8n):
    n8n.script("gmail-search", Scripted(400, {"message": "bad query"}))
    err = await failure(env, flows)
    assert err.type == "UpstreamBadRequest" and err.non_retryable and "bad query" in err.message


async def test_an_inactive_workflow_404_says_so(env, flows, n8n):
    n8n.script("gmail-search", Scripted(404, {"message": "not registered"}))
    err = await failure(env, flows)
    assert err.type == "UpstreamBadRequest" and "active" in err.message


async def test_a_wrong_secret_is_an_auth_error_and_the_secret_is_not_echoed(env, n8n):
    flows = FlowActivities(Settings(n8n_base_url=n8n.base_url, n8n_webhook_secret="wrong-secret-value"))
    err = await failure(env, flows)
    assert err.type == "UpstreamAuthError" and err.non_retryable and "403" in err.message
    assert "wrong-secret-value" not in err.message


async def test_a_webhook_without_its_header_credential_is_an_auth_error_not_an_outage(env, flows, n8n):
    # Real n8n 1.x: the Webhook node cannot load its credential, so it answers this plain-text 500.
    n8n.script(
        "gmail-search",
        Scripted(500, text="No authentication data defined on node!", content_type="text/plain", headers=CHALLENGE),
    )
    err = await failure(env, flows)
    assert err.type == "UpstreamAuthError" and err.non_retryable
    assert "No authentication data defined on node!" in err.message and "header-auth credential" in err.message


async def test_a_flow_whose_gmail_credential_is_refused_is_an_auth_error(env, flows, n8n):
    refused = {
        "ok": False,
        "error": {"type": "UpstreamAuthError", "message": "Authorization failed - please check your credentials"},
    }
    n8n.script("gmail-search", Scripted(200, refused))
    err = await failure(env, flows)
    assert err.type == "UpstreamAuthError" and err.non_retryable and "check your credentials" in err.message


async def test_ok_false_is_a_tool_error(env, flows, n8n):
    n8n.script(
        "gmail-search", Scripted(200, {"ok": False, "error": {"type": "GmailQuotaExceeded", "message": "try tomorrow"}})
    )
    err = await failure(env, flows)
    assert err.type == "ToolError" and err.non_retryable
    assert "GmailQuotaExceeded: try tomorrow" in err.message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (Scripted(200, text="Workflow was started", content_type="text/plain"), "non-JSON"),
        (Scripted(200, {"message": "Workflow was started"}), "envelope"),
        (Scripted(200, {"ok": True, "result": [1, 2]}), "not an object"),
        (Scripted(200, {"ok": False}), "without an error"),
    ],
)
async def test_answers_that_break_the_envelope_are_protocol_errors(env, flows, n8n, answer, hint):
    n8n.script("gmail-search", answer)
    err = await failure(env, flows)
    assert err.type == "UpstreamProtocolError" and err.non_retryable and hint in err.message


async def test_a_slow_flow_times_out_and_is_retried(env, n8n):
    flows = FlowActivities(Settings(n8n_base_url=n8n.base_url, n8n_webhook_secret=n8n.secret, n8n_timeout_s=0.3))
    n8n.script("gmail-search", Scripted(200, {"ok": True, "result": {}}, delay_s=1.5))
    err = await failure(env, flows)
    assert err.type == "UpstreamUnavailable" and not err.non_retryable and "timed out" in err.message


async def test_n8n_down_is_retried(env, unused_tcp_port):
    flows = FlowActivities(Settings(n8n_base_url=f"http://127.0.0.1:{unused_tcp_port}/webhook", n8n_timeout_s=1))
    err = await failure(env, flows)
    assert err.type == "UpstreamUnavailable" and not err.non_retryable and "unreachable" in err.message


async def test_inputs_are_checked_again_and_other_intents_are_refused(env, flows, n8n):
    bad = await failure(
        env, flows, FlowCall(intent="gmail.search", inputs={"query": "x", "max_results": 0}, job_id="j")
    )
    assert bad.type == "ValidationError" and "max_results" in bad.message
    other = await failure(env, flows, FlowCall(intent="memory.write", inputs={"text": "x"}, job_id="j"))
    assert other.type == "UnknownIntent"
    assert n8n.requests == []
