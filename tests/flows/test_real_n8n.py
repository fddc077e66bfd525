"""The shipped flows in real n8n (installed once into ~/.cache, see scripts/n8n-install.sh).

Gmail, Slack, Google Calendar, Notion, Todoist, GitHub and OpenAI refuse the dummy credentials here (and
nothing reaches the internet), so every flow fails past its envelope check, in its preview and in its apply
path: each failure must come back as {"ok": false, "error": {type, message}}, never as a success such as
"found: 0" or "no conflicts". Success paths that need a real service stay on the loopback fake.
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.flows import FlowActivities, flow_envelope, webhook_url
from config import Settings
from intents import flows, registry
from intents.flows import FlowCall
from tests.support.n8n_real import EXPORTS, NO_CREDENTIAL_PREFIX, RealN8n, install
from tests.support.stack import isolated_stack

INTENTS = sorted(flows.FLOW_WEBHOOK_PATHS)
# What a refused service call may be typed as: the credential is unusable, or the service failed.
FAILURE_TYPES = {
    "UpstreamAuthError",
    "GmailError",
    "SlackError",
    "CalendarError",
    "NotionError",
    "TasksError",
    "CodeReviewError",
}


@pytest.fixture(scope="session")
def real_n8n(tmp_path_factory):
    n8n = RealN8n(home=install(), folder=tmp_path_factory.mktemp("n8n"))
    n8n.prepare()
    n8n.start()
    yield n8n
    n8n.stop()


def envelope(intent: str, **inputs) -> dict:
    spec = registry.get(intent)
    merged = {k: v for k, v in {**spec.example, **inputs}.items() if v is not None}
    return flow_envelope(FlowCall(intent=intent, inputs=merged, job_id=f"real-{intent}"))


def post(n8n: RealN8n, intent: str, body: dict, headers: dict | None = None, prefix: str = "") -> httpx.Response:
    path = (f"{prefix}/" if prefix else "") + flows.FLOW_WEBHOOK_PATHS[intent]
    return httpx.post(
        f"{n8n.base_url}/{path}",
        json=body,
        headers={n8n.header: n8n.secret} if headers is None else headers,
        timeout=60,
    )


CASES = [(i, {}) for i in INTENTS] + [
    ("gmail.triage", {"dry_run": False}),
    ("calendar.schedule", {"dry_run": False}),
    ("notes.sync", {"dry_run": False}),
    ("tasks.create", {"dry_run": False}),
    ("tasks.create", {"service": "todoist", "repo": None, "project": "Work", "due": "tomorrow"}),
    ("code.review", {"dry_run": False}),
    ("code.review", {"dry_run": False, "comment": "Looks good to me."}),  # apply a previewed comment: the post fails
]


def case_id(value) -> str:
    if isinstance(value, str):
        return value
    return "-".join(f"{k}={v}" for k, v in value.items() if v is not None and k != "comment") + (
        "-comment" if "comment" in value else ""
    )


@pytest.mark.parametrize("intent, inputs", CASES, ids=case_id)
def test_a_refused_service_call_answers_the_error_envelope_never_a_success(real_n8n, intent, inputs):
    resp = post(real_n8n, intent, envelope(intent, **inputs))

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ok"] is False, f"{intent} answered a success while its service refused every call: {body}"
    assert body["error"]["type"] in FAILURE_TYPES and body["error"]["message"], body


def test_an_envelope_for_another_intent_is_refused_by_the_flow(real_n8n):
    resp = post(real_n8n, "gmail.search", envelope("slack.summarize"))

    assert resp.status_code == 200
    # Real n8n's Code node cuts a thrown message at its last ':': the type must survive that.
    assert resp.json() == {
        "ok": False,
        "error": {"type": "BadEnvelope", "message": "expected intent gmail.search, got slack.summarize"},
    }


@pytest.mark.parametrize("headers", [{}, {"X-Orchestrator-Secret": "wrong"}], ids=["missing", "wrong"])
def test_a_missing_or_wrong_secret_is_403(real_n8n, headers):
    resp = post(real_n8n, "gmail.search", envelope("gmail.search"), headers=headers)

    assert resp.status_code == 403


def test_a_missing_header_credential_is_a_500_with_an_auth_challenge(real_n8n):
    resp = post(real_n8n, "gmail.search", envelope("gmail.search"), prefix=NO_CREDENTIAL_PREFIX)

    assert resp.status_code == 500 and "www-authenticate" in resp.headers, (resp.status_code, resp.headers, resp.text)


async def first_attempt_only(client, job_id: str) -> int:
    history = await client.get_workflow_handle(job_id).fetch_history()
    started = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    return max(e.activity_task_started_event_attributes.attempt for e in started)


def orchestrator_settings(n8n: RealN8n, *, secret: str | None = None, prefix: str = "") -> dict:
    base = n8n.base_url + (f"/{prefix}" if prefix else "")
    return dict(n8n_base_url=base, n8n_webhook_secret=SecretStr(secret or n8n.secret), n8n_timeout_s=60)


@pytest.mark.parametrize("intent", INTENTS)
async def test_through_orchestrate_a_refused_service_is_a_typed_error_after_one_attempt(
    client, settings, real_n8n, unique, intent
):
    async with isolated_stack(client, settings, **orchestrator_settings(real_n8n)) as (http, _):
        resp = await http.post(
            "/orchestrate",
            json={"intent": intent, "inputs": registry.get(intent).example},
            headers={"Idempotency-Key": f"{unique}-{intent}"},
        )

    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["type"] in ("UpstreamAuthError", "ToolError"), error
    assert await first_attempt_only(client, resp.json()["job_id"]) == 1


@pytest.mark.parametrize(
    "case, overrides",
    [("wrong secret", dict(secret="not-the-secret")), ("missing credential", dict(prefix=NO_CREDENTIAL_PREFIX))],
)
async def test_through_orchestrate_auth_misconfiguration_is_not_retried(
    client, settings, real_n8n, unique, case, overrides
):
    async with isolated_stack(client, settings, **orchestrator_settings(real_n8n, **overrides)) as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "digest.daily", "inputs": {}}, headers={"Idempotency-Key": f"{unique}-auth"}
        )

    assert resp.status_code == 502, resp.text
    assert resp.json()["error"]["type"] == "UpstreamAuthError", resp.json()
    assert await first_attempt_only(client, resp.json()["job_id"]) == 1


async def test_the_activity_reads_a_missing_credential_as_configuration(real_n8n):
    settings = Settings(**orchestrator_settings(real_n8n, prefix=NO_CREDENTIAL_PREFIX))
    assert webhook_url(settings, "gmail.search").endswith(f"/{NO_CREDENTIAL_PREFIX}/gmail-search")
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(
            FlowActivities(settings).call, FlowCall(intent="gmail.search", inputs={"query": "x"}, job_id="j")
        )

    assert (err.value.type, err.value.non_retryable) == ("UpstreamAuthError", True)
    assert "header-auth credential" in str(err.value)


def test_every_code_node_of_every_export_is_valid_javascript(tmp_path):
    """Real n8n runs a Code node only when a flow reaches it; node's own parser checks every one now."""
    node = install() / "node22" / "node_modules" / "node" / "bin" / "node"
    for export in sorted(EXPORTS.glob("*.json")):
        for item in json.loads(export.read_text())["nodes"]:
            if item["type"] != "n8n-nodes-base.code":
                continue
            script = tmp_path / f"{export.stem}-{item['id']}.js"
            script.write_text(f"async function codeNode($input, $) {{\n{item['parameters']['jsCode']}\n}}\n")
            done = subprocess.run([str(node), "--check", str(script)], capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, f"{export.name} / {item['name']}: {done.stderr}"
