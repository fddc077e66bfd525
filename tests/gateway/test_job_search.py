"""A user who lost a job id finds it again: GET /jobs lists jobs from Temporal visibility, newest first,
filtered by intent, status, who asked and when, a page at a time; every bad filter is a 422 naming it and
nothing a client sends can add a clause to the query."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.gpt.helpers import chat, run


async def listed(api, **params) -> dict:
    resp = await api.get("/jobs", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def eventually(api, predicate, **params) -> dict:
    """Visibility is updated a moment after a run changes: ask again until it shows."""
    for _ in range(50):
        body = await listed(api, **params)
        if predicate(body["jobs"]):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"GET /jobs {params} never showed it: {body}")


async def test_jobs_are_found_by_intent_status_requester_and_time(api, unique):
    since = datetime.now(timezone.utc).isoformat()
    written = []
    for i in range(3):
        resp = await api.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"search {unique} #{i}"}}
        )
        assert resp.status_code == 200, resp.text
        written.append(resp.json()["job_id"])
    workflow = await run(api, {"name": f"Searchable {unique}", "steps": [chat("hello", "Wanderweave", "hi")]})
    ask = await api.post("/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"Ship {unique}?"}})
    assert ask.status_code == 202, ask.text
    waiting = ask.json()["job_id"]

    memories = await eventually(
        api, lambda jobs: {j["job_id"] for j in jobs} >= set(written), intent="memory.write", since=since
    )
    jobs = memories["jobs"]
    assert [j["job_id"] for j in jobs if j["job_id"] in written] == written[::-1], "newest first"
    first = next(j for j in jobs if j["job_id"] == written[0])
    assert first["kind"] == "intent" and first["status"] == "success" and first["requested_by"] == "api-key"
    assert first["summary"] == f'memory.write: "search {unique} #0"'
    assert first["started_at"] <= first["closed_at"] and first["duration_ms"] >= 0

    gpt = await eventually(
        api, lambda jobs: any(j["job_id"] == workflow["workflow_id"] for j in jobs), intent="gpt.workflow", since=since
    )
    listed_workflow = next(j for j in gpt["jobs"] if j["job_id"] == workflow["workflow_id"])
    assert listed_workflow["kind"] == "gpt_workflow" and listed_workflow["summary"].startswith(
        f'GPT workflow "Searchable {unique}"'
    )
    assert all(j["intent"] == "gpt.workflow" for j in gpt["jobs"])

    pending = await eventually(
        api, lambda jobs: any(j["job_id"] == waiting for j in jobs), status="awaiting_approval", since=since
    )
    assert all(j["status"] == "awaiting_approval" for j in pending["jobs"])
    running = await listed(api, status="running", since=since)
    assert waiting not in {j["job_id"] for j in running["jobs"]}, "awaiting approval is not plain running"
    assert (await api.post(f"/jobs/{waiting}/reject", json={"reason": "not now"})).status_code == 200
    await eventually(api, lambda jobs: any(j["job_id"] == waiting for j in jobs), status="rejected", since=since)

    assert (await listed(api, requested_by="someone-else", since=since))["jobs"] == []
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert (await listed(api, since=later))["jobs"] == []
    assert written[0] in {
        j["job_id"] for j in (await listed(api, intent="memory.write", until=later, since=since))["jobs"]
    }


async def test_pages_follow_each_other_and_a_token_belongs_to_its_own_search(api, unique):
    since = datetime.now(timezone.utc).isoformat()
    ids = []
    for i in range(5):
        resp = await api.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"paged {unique} {i}"}}
        )
        ids.append(resp.json()["job_id"])
    await eventually(api, lambda jobs: len(jobs) >= 5, intent="memory.write", since=since)

    seen, token, pages = [], None, 0
    while True:
        page = await listed(
            api, intent="memory.write", since=since, limit=2, **({"page_token": token} if token else {})
        )
        assert len(page["jobs"]) <= 2
        seen += [j["job_id"] for j in page["jobs"]]
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ids[::-1] and pages >= 3

    first = await listed(api, intent="memory.write", since=since, limit=2)
    other = await api.get(
        "/jobs", params={"intent": "gpt.workflow", "since": since, "limit": 2, "page_token": first["next_page_token"]}
    )
    assert other.status_code == 422 and other.json()["error"]["field"] == "page_token"
    forged = await api.get("/jobs", params={"page_token": "eyJxIjoiYSJ9.AAAA"})
    assert forged.status_code == 422 and forged.json()["error"]["field"] == "page_token"


async def test_every_bad_filter_is_a_422_naming_it_and_nothing_reaches_the_query(api):
    bad = {
        "intent": "memory.write' OR Intent != 'x",
        "status": "finished",
        "requested_by": "api-key' OR 'a'='a",
        "since": "yesterday",
        "until": "2026-13-45",
        "limit": "0",
    }
    for field, value in bad.items():
        resp = await api.get("/jobs", params={field: value})
        assert resp.status_code == 422, (field, resp.text)
        assert resp.json()["error"]["field"] in (field, f"query.{field}"), resp.text
        assert value not in resp.text, "a submitted value is never echoed"
    backwards = await api.get("/jobs", params={"since": "2026-11-21", "until": "2026-11-20"})
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"
