"""Flow intents through POST /orchestrate: the gateway routes them to n8n (a fake on loopback) durably."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from intents import flows, registry
from tests.support.n8n_fake import FakeN8n, Scripted
from tests.support.stack import isolated_stack, poll_job


@pytest.fixture
async def flow_api(client, settings, n8n: FakeN8n):
    overrides = dict(n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr(n8n.secret), n8n_timeout_s=2)
    async with isolated_stack(client, settings, **overrides) as (http, _):
        yield http


def keyed(unique: str, label: str) -> dict[str, str]:
    # Same inputs in two tests would be the same job: a per-test Idempotency-Key keeps them apart.
    return {"Idempotency-Key": f"{unique}-{label}"}


@pytest.mark.parametrize("intent", sorted(flows.FLOW_WEBHOOK_PATHS))
async def test_every_flow_intent_runs_its_n8n_webhook_in_flow_mode(flow_api, n8n, unique, intent):
    spec = registry.get(intent)
    resp = await flow_api.post(
        "/orchestrate", json={"intent": intent, "inputs": spec.example}, headers=keyed(unique, intent)
    )

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["intent"], body["mode"]) == (intent, "flow")
    spec.output_model.model_validate(body["result"])
    [call] = n8n.calls(flows.FLOW_WEBHOOK_PATHS[intent])
    assert call.headers[n8n.header.lower()] == n8n.secret
    assert call.body["intent"] == intent and call.body["job_id"] == body["job_id"]
    assert call.body["inputs"] == spec.input_model.model_validate(spec.example).model_dump(mode="json")


async def test_the_seed_conversation_previews_then_labels_on_confirmation(flow_api, n8n, unique):
    ask = {
        "intent": "gmail.triage",
        "inputs": {"query": "is:unread older_than:2d", "label": "INBOX/Processed"},
        "mode": "auto",
    }

    preview = await flow_api.post("/orchestrate", json=ask, headers=keyed(unique, "preview"))
    assert preview.status_code == 200, preview.text
    assert preview.json()["mode"] == "flow"
    result = preview.json()["result"]
    assert (result["dry_run"], result["found"], result["would_apply_label"]) == (True, 2, "INBOX/Processed")
    assert {m["subject"] for m in result["preview"]} == {"Invoice 42", "Team lunch"}
    assert not any("INBOX/Processed" in m.labels for m in n8n.mailbox), "a dry run changes nothing"

    confirm = {**ask, "inputs": {**ask["inputs"], "dry_run": False}}
    applied = await flow_api.post("/orchestrate", json=confirm, headers=keyed(unique, "apply"))
    assert applied.status_code == 200, applied.text
    assert applied.json()["result"] == {"dry_run": False, "labeled": 2, "label": "INBOX/Processed"}
    assert {m.id for m in n8n.mailbox if "INBOX/Processed" in m.labels} == {"m1", "m2"}

    again = await flow_api.post("/orchestrate", json=confirm, headers=keyed(unique, "apply"))
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["job_id"] == applied.json()["job_id"]
    assert len(n8n.calls("gmail-triage")) == 2, "asking again attaches to the job: n8n is not called a third time"


async def test_a_flaky_n8n_is_retried_until_it_answers(flow_api, n8n, unique):
    n8n.script(
        "gmail-search", Scripted(503, {"message": "busy"}), Scripted(502, text="Bad Gateway", content_type="text/plain")
    )

    resp = await flow_api.post(
        "/orchestrate",
        json={"intent": "gmail.search", "inputs": {"query": "from:alice"}},
        headers=keyed(unique, "flaky"),
    )

    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["messages"][0]["subject"] == "Team lunch"
    assert len(n8n.calls("gmail-search")) == 3


async def test_a_4xx_from_n8n_is_not_retried_and_answers_a_clear_error(flow_api, n8n, unique):
    n8n.script("slack-summarize", Scripted(404, {"message": "The requested webhook is not registered."}))

    resp = await flow_api.post(
        "/orchestrate",
        json={"intent": "slack.summarize", "inputs": {"channels": ["#ops"]}},
        headers=keyed(unique, "4xx"),
    )

    assert resp.status_code == 502
    body = resp.json()
    assert body["status"] == "error" and body["error"]["type"] == "UpstreamBadRequest"
    assert "not found (404)" in body["error"]["message"] and "active" in body["error"]["message"]
    assert len(n8n.calls("slack-summarize")) == 1
    job = await poll_job(flow_api, body["job_id"])
    assert (job["status"], job["mode"], job["error"]["type"]) == ("error", "flow", "UpstreamBadRequest")


async def test_a_flow_that_says_no_is_a_tool_error_in_its_own_words(flow_api, unique):
    resp = await flow_api.post(
        "/orchestrate",
        json={"intent": "slack.summarize", "inputs": {"channels": ["#nope"]}},
        headers=keyed(unique, "no"),
    )

    assert resp.status_code == 502
    assert resp.json()["error"]["type"] == "ToolError"
    assert "ChannelNotFound" in resp.json()["error"]["message"]


async def test_a_wrong_n8n_secret_is_an_auth_error_not_retried(client, settings, n8n, unique):
    wrong = dict(n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr("not-the-secret"), n8n_timeout_s=2)
    async with isolated_stack(client, settings, **wrong) as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "digest.daily", "inputs": {}}, headers=keyed(unique, "auth")
        )

    assert resp.status_code == 502
    assert resp.json()["error"]["type"] == "UpstreamAuthError"
    assert "N8N_WEBHOOK_SECRET" in resp.json()["error"]["message"]
    assert len(n8n.calls("digest-daily")) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"intent": "gmail.search", "inputs": {"query": "x", "url": "http://169.254.169.254/"}}, "inputs.url"),
        ({"intent": "gmail.search", "inputs": {"query": "x"}, "webhook_url": "http://evil.test/hook"}, "webhook_url"),
    ],
)
async def test_the_webhook_url_never_comes_from_the_request(flow_api, n8n, body, field):
    resp = await flow_api.post("/orchestrate", json=body)

    assert resp.status_code == 422
    assert resp.json()["error"]["field"] == field
    assert n8n.requests == []


async def test_the_resolved_mode_is_searchable_in_temporal(flow_api, client, unique):
    resp = await flow_api.post(
        "/orchestrate", json={"intent": "gmail.search", "inputs": {"query": "invoice"}}, headers=keyed(unique, "sa")
    )
    job_id = resp.json()["job_id"]

    assert (await flow_api.get(f"/jobs/{job_id}")).json()["mode"] == "flow"
    for _ in range(50):  # visibility is eventually consistent
        found = [
            w.id
            async for w in client.list_workflows(
                f"WorkflowId = '{job_id}' AND `Mode` = 'flow' AND Intent = 'gmail.search'"
            )
        ]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [job_id]
    assert [w.id async for w in client.list_workflows(f"WorkflowId = '{job_id}' AND `Mode` = 'agent'")] == []
