"""The seed's three examples run end to end through the HTTP API, on the offline provider."""

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


async def create_and_execute(api, definition: dict) -> dict:
    created = await api.post("/api/gpt-workflows/create", json=definition)
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "created"
    workflow_id = created.json()["workflow_id"]

    before = await api.get(f"/api/gpt-workflows/{workflow_id}")
    assert before.json()["state"] == "created"
    assert {s["state"] for s in before.json()["steps"]} == {"pending"}

    executed = await api.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 30})
    assert executed.status_code == 200, executed.text
    return executed.json()


async def test_travel_blog_runs_its_steps_in_order_feeding_each_into_the_next(api):
    status = await create_and_execute(api, example("travel-blog.json"))

    assert status["state"] == "succeeded"
    steps = {s["step_id"]: s for s in status["steps"]}
    assert [s["state"] for s in status["steps"]] == ["succeeded"] * 3
    assert steps["content"]["output"].startswith("[offline:Wanderweave]")
    assert steps["content"]["ended_at"] <= steps["design"]["started_at"] <= steps["format"]["started_at"]
    # Templates carried each output into the next step's message.
    assert "Wanderweave" in steps["design"]["output"]


async def test_security_audit_runs_scan_and_audit_before_the_report_and_remembers_it(api):
    status = await create_and_execute(api, example("security-audit.json"))

    assert status["state"] == "succeeded", status
    steps = {s["step_id"]: s for s in status["steps"]}
    report_start = steps["report"]["started_at"]
    assert steps["scan"]["ended_at"] <= report_start and steps["audit"]["ended_at"] <= report_start
    assert steps["remember"]["output"]["id"].startswith("mem-")

    found = await api.post(
        "/orchestrate", json={"intent": "memory.search", "inputs": {"query": "security report", "tags": ["audit"]}}
    )
    hits = found.json()["result"]["hits"]
    # Another test may run this example too (the same report, tagged the same): identical memories tie.
    best = [h["id"] for h in hits if h["score"] == hits[0]["score"]]
    assert steps["remember"]["output"]["id"] in best


async def test_the_creative_fleet_answers_the_marketing_objective_with_a_synthesis(api):
    body = example("fleet-marketing.json")
    category = body.pop("category")

    resp = await api.post(f"/api/gpt-fleets/{category}/orchestrate", json=body, params={"wait": 30})

    assert resp.status_code == 200, resp.text
    fleet = resp.json()
    assert fleet["category"] == "Creative"
    assert {a["agent"] for a in fleet["agents"]} == {"Wanderweave", "Design Studio Pro", "ShowBuilder GPT"}
    assert all(a["status"] == "succeeded" and a["output"] for a in fleet["agents"])
    assert fleet["synthesis"]["agent"] == "ShowBuilder GPT" and fleet["synthesis"]["status"] == "succeeded"
    assert fleet["succeeded"] == 3 and fleet["failed"] == 0

    job = await api.get(f"/jobs/{fleet['workflow_id']}")
    assert job.json()["status"] == "success"


async def test_an_operator_finds_every_run_an_agent_took_part_in(api, client):
    status = await create_and_execute(api, example("travel-blog.json"))
    fleet = await api.post(
        "/api/gpt-fleets/Creative/orchestrate", json={"objective": "Agent search attribute"}, params={"wait": 30}
    )

    query = f"Agent='Wanderweave' AND WorkflowId IN ('{status['workflow_id']}', '{fleet.json()['workflow_id']}')"
    found = {wf.id async for wf in client.list_workflows(query)}

    assert found == {status["workflow_id"], fleet.json()["workflow_id"]}
