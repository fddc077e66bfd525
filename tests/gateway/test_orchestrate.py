"""A ChatGPT Action calls POST /orchestrate and gets the answer, or a job to poll."""

from tests.support.stack import isolated_stack, poll_job


async def test_a_quick_intent_answers_synchronously(api, unique):
    resp = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"note {unique}"}})

    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success"
    assert body["intent"] == "memory.write" and body["mode"] == "agent"
    assert body["job_id"].startswith("orch-")
    assert body["result"]["id"].startswith("mem-")
    assert body["duration_ms"] >= 0


async def test_a_job_slower_than_the_sync_timeout_answers_202_and_finishes_later(client, settings, unique):
    async with isolated_stack(client, settings, sync_timeout_s=0.001) as (http, _):
        resp = await http.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"later {unique}"}})

        assert resp.status_code == 202
        accepted = resp.json()
        assert accepted == {
            "status": "accepted",
            "job_id": accepted["job_id"],
            "intent": "memory.write",
            "mode": "agent",
        }
        assert resp.headers["Location"] == f"/jobs/{accepted['job_id']}"
        job = await poll_job(http, accepted["job_id"])
        assert job["status"] == "success"
        assert job["result"]["id"].startswith("mem-")


async def test_async_true_answers_202_at_once_and_the_job_can_be_polled(api, unique):
    resp = await api.post(
        "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"async {unique}"}, "async": True}
    )
    assert resp.status_code == 202
    job_id = resp.json()["job_id"]

    job = await poll_job(api, job_id)

    assert job["job_id"] == job_id
    assert job["intent"] == "memory.write" and job["mode"] == "agent"
    assert job["status"] == "success"
    assert job["started_at"] and job["closed_at"] and job["duration_ms"] >= 0


async def test_the_job_id_is_the_same_for_the_same_request(api, unique):
    body = {"intent": "memory.write", "inputs": {"text": f"same job {unique}"}}
    first = await api.post("/orchestrate", json=body)
    # Same inputs spelled differently (defaults explicit, keys reordered) are the same request.
    second = await api.post(
        "/orchestrate", json={"inputs": {"tags": [], "text": f"same job {unique}"}, "intent": "memory.write"}
    )

    assert first.json()["job_id"] == second.json()["job_id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json()["result"] == first.json()["result"]


async def test_a_repeated_read_sees_what_changed_since(api, unique):
    """Idempotency keeps side effects from running twice; a read has none, so asking again after it
    finished reads again (same job id, new run) instead of serving a stale answer."""
    search = {"intent": "memory.search", "inputs": {"query": f"zebra {unique}", "tags": [unique]}}
    before = await api.post("/orchestrate", json=search)
    await api.post(
        "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"zebra {unique}", "tags": [unique]}}
    )
    after = await api.post("/orchestrate", json=search)

    assert before.json()["job_id"] == after.json()["job_id"]
    assert before.json()["result"]["hits"] == []
    assert [h["text"] for h in after.json()["result"]["hits"]] == [f"zebra {unique}"]
    assert "Idempotent-Replayed" not in after.headers
