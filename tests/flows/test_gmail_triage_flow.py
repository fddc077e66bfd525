"""The seed's conversation: preview old unread mail, then label it for real, then again (idempotent)."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from intents.flows import FlowCall, GmailTriageOutput


def triage(**inputs) -> FlowCall:
    return FlowCall(
        intent="gmail.triage",
        inputs={"query": "is:unread older_than:2d", "label": "INBOX/Processed", **inputs},
        job_id="orch-triage-1",
    )


async def test_preview_then_apply_then_apply_again(env, flows, n8n):
    # "Organize my old unread emails": the first call only looks (dry_run defaults to true).
    preview = await env.run(flows.call, triage())
    assert GmailTriageOutput.model_validate(preview).dry_run is True
    assert preview["found"] == 2 and preview["would_apply_label"] == "INBOX/Processed"
    assert {m["subject"] for m in preview["preview"]} == {"Invoice 42", "Team lunch"}
    assert not any("INBOX/Processed" in m.labels for m in n8n.mailbox), "a dry run changes nothing"

    # "Yes, label them": the same intent with dry_run=false applies the label.
    applied = await env.run(flows.call, triage(dry_run=False))
    assert applied == {"dry_run": False, "labeled": 2, "label": "INBOX/Processed"}
    assert {m.id for m in n8n.mailbox if "INBOX/Processed" in m.labels} == {"m1", "m2"}

    # A retry of the apply step (same job) is harmless: the same two messages carry the label once.
    again = await env.run(flows.call, triage(dry_run=False))
    assert again["labeled"] == 2
    assert sum("INBOX/Processed" in m.labels for m in n8n.mailbox) == 2


async def test_the_envelope_and_headers_n8n_receives(env, flows, n8n):
    await env.run(flows.call, triage(dry_run=False, batch_size=10))
    (request,) = n8n.calls("gmail-triage")
    assert request.body == {
        "intent": "gmail.triage",
        "inputs": {
            "query": "is:unread older_than:2d",
            "label": "INBOX/Processed",
            "dry_run": False,
            "batch_size": 10,
            "max_messages": 200,
        },
        "job_id": "orch-triage-1",
        "dry_run": False,
    }
    assert request.headers["x-orchestrator-secret"] == n8n.secret
    assert request.headers["idempotency-key"] == "orch-triage-1"


async def test_dry_run_defaults_to_true_even_when_the_caller_omits_it(env, flows, n8n):
    await env.run(flows.call, triage())
    assert n8n.calls("gmail-triage")[0].body["dry_run"] is True


async def test_a_missing_label_is_a_tool_error_in_n8ns_words(env, flows):
    with pytest.raises(ApplicationError) as info:
        await env.run(flows.call, triage(label="Nope", dry_run=False))
    assert info.value.type == "ToolError" and info.value.non_retryable
    assert "LabelNotFound" in info.value.message and "Nope" in info.value.message
    assert info.value.details[0] == {"type": "LabelNotFound", "message": "no Gmail label named 'Nope'; create it first"}
