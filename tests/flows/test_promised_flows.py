"""The four promised flows through POST /orchestrate, against the loopback n8n: preview first, then apply."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.support.n8n_fake import FakeN8n, Scripted
from tests.support.stack import isolated_stack


@pytest.fixture
async def flow_api(client, settings, n8n: FakeN8n):
    overrides = dict(n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr(n8n.secret), n8n_timeout_s=2)
    async with isolated_stack(client, settings, **overrides) as (http, _):
        yield http


async def run(http, intent: str, inputs: dict, key: str) -> dict:
    resp = await http.post("/orchestrate", json={"intent": intent, "inputs": inputs}, headers={"Idempotency-Key": key})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


async def test_calendar_schedule_lists_conflicts_first_then_creates_the_event_once(flow_api, n8n, unique):
    slot = {
        "title": "Design review",
        "start": "2026-12-01T11:00:00+01:00",
        "end": "2026-12-01T11:30:00+01:00",
        "attendees": ["a@example.com"],
    }

    preview = await run(flow_api, "calendar.schedule", slot, f"{unique}-preview")
    assert preview["dry_run"] is True and [c["title"] for c in preview["conflicts"]] == ["Standup"]
    assert preview["would_create"]["title"] == "Design review" and len(n8n.events) == 1, "a preview creates nothing"

    made = await run(flow_api, "calendar.schedule", {**slot, "dry_run": False}, f"{unique}-apply")
    assert made["dry_run"] is False and made["event"]["id"] and made["conflicts"][0]["title"] == "Standup"
    assert [e["title"] for e in n8n.events] == ["Standup", "Design review"]


async def test_calendar_schedule_refuses_an_end_before_its_start(flow_api, n8n):
    resp = await flow_api.post("/orchestrate", json={"intent": "calendar.schedule", "inputs": {
        "title": "x", "start": "2026-12-01T11:00:00+01:00", "end": "2026-12-01T10:00:00+01:00"}})  # fmt: skip
    assert resp.status_code == 422 and resp.json()["error"]["field"] == "inputs.end"
    assert n8n.requests == []


async def test_notes_sync_creates_a_page_then_updates_it(flow_api, n8n, unique):
    page = {"database_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "title": f"Notes {unique}", "content": "One.\n\nTwo."}

    preview = await run(flow_api, "notes.sync", page, f"{unique}-p1")
    assert (preview["dry_run"], preview["action"], preview["blocks"]) == (True, "create", 2) and page[
        "title"
    ] not in n8n.notion

    created = await run(flow_api, "notes.sync", {**page, "dry_run": False}, f"{unique}-a1")
    assert (created["action"], created["page_id"]) == ("create", n8n.notion[page["title"]]["id"])

    updated = await run(flow_api, "notes.sync", {**page, "content": "Three.", "dry_run": False}, f"{unique}-a2")
    assert updated["action"] == "update" and n8n.notion[page["title"]]["blocks"] == ["One.", "Two.", "Three."]


async def test_tasks_create_previews_then_opens_a_github_issue_or_a_todoist_task(flow_api, n8n, unique):
    issue = {"service": "github", "repo": "octo-org/website", "title": f"Broken link {unique}", "labels": ["bug"]}
    preview = await run(flow_api, "tasks.create", issue, f"{unique}-p")
    assert preview == {
        "dry_run": True,
        "service": "github",
        "would_create": {"title": issue["title"], "where": "octo-org/website"},
    }
    assert n8n.issues == []

    created = await run(flow_api, "tasks.create", {**issue, "dry_run": False}, f"{unique}-a")
    assert created["created"]["url"].startswith("https://github.test/octo-org/website/issues/") and len(n8n.issues) == 1

    task = await run(flow_api, "tasks.create", {"service": "todoist", "title": "Call Bob", "project": "Work", "due": "tomorrow",
                                                "dry_run": False}, f"{unique}-t")  # fmt: skip
    assert task["created"]["where"] == "Work" and n8n.tasks[0]["title"] == "Call Bob"

    missing = await flow_api.post(
        "/orchestrate",
        json={"intent": "tasks.create", "inputs": {"service": "todoist", "title": "x", "project": "Nope"}},
    )
    assert missing.status_code == 502 and "ProjectNotFound" in missing.json()["error"]["message"]


async def test_code_review_shows_the_comment_first_then_posts_exactly_that(flow_api, n8n, unique):
    pr = {"repo": "octo-org/website", "pr": 42}
    preview = await run(flow_api, "code.review", pr, f"{unique}-p")
    assert preview["dry_run"] is True and "footer link" in preview["comment"] and preview["diff_chars"] > 0
    assert n8n.comments == []

    posted = await run(flow_api, "code.review", {**pr, "dry_run": False, "comment": preview["comment"]}, f"{unique}-a")
    assert posted["comment_id"] and [c["body"] for c in n8n.comments] == [preview["comment"]]


async def test_an_apply_whose_answer_is_lost_is_not_repeated_blindly(flow_api, n8n, unique):
    n8n.script("code-review", Scripted(502, text="Bad Gateway", content_type="text/plain"))
    resp = await flow_api.post("/orchestrate", json={"intent": "code.review", "inputs": {"repo": "octo-org/website", "pr": 42,
                               "dry_run": False, "comment": "LGTM"}}, headers={"Idempotency-Key": f"{unique}-lost"})  # fmt: skip

    assert resp.status_code == 502 and resp.json()["error"]["type"] == "ToolOutcomeUnknown", resp.text
    assert "may have run" in resp.json()["error"]["message"] and len(n8n.calls("code-review")) == 1


async def test_a_preview_is_retried_like_any_read(flow_api, n8n, unique):
    n8n.script("code-review", Scripted(503, {"message": "busy"}))
    result = await run(flow_api, "code.review", {"repo": "octo-org/website", "pr": 42}, f"{unique}-retry")
    assert result["dry_run"] is True and len(n8n.calls("code-review")) == 2
