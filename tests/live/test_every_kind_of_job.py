"""Every kind of job streams the same way: a single intent (with its approval asked and decided), a GPT
workflow run through /orchestrate, a GPT workflow whose step waits for a human, and a fleet under its own
route; `done` is exactly what GET /jobs/{id} answers."""

from __future__ import annotations

import asyncio

from tests.gpt.helpers import chat, create
from tests.live.sse import durable, read_events, steps


async def test_a_single_intent_job_streams_its_approval_and_its_step(api):
    ask = await api.post(
        "/orchestrate", json={"intent": "approval.request", "inputs": {"message": "Stream me?", "expires_s": 600}}
    )
    assert ask.status_code == 202, ask.text
    job_id = ask.json()["job_id"]

    async def approve_soon() -> None:
        await asyncio.sleep(0.5)
        assert (
            await api.post(f"/jobs/{job_id}/approve", json={"reason": "fine", "note": "ops on call"})
        ).status_code in (200, 202)

    approving = asyncio.create_task(approve_soon())
    events = await read_events(api, f"/jobs/{job_id}/events", last_event_id="0")
    await approving

    assert events[0].event == "snapshot" and events[0].data["kind"] == "intent"
    approvals = [e.data for e in events if e.event == "approval"]
    assert [a["state"] for a in approvals] == ["pending", "decided"]
    assert approvals[0]["request"]["intent"] == "approval.request" and approvals[1]["decision"]["approver"] == "api-key"
    assert steps(events) == [("approval.request", "started"), ("approval.request", "succeeded")]
    assert events[-1].event == "done" and events[-1].data == (await api.get(f"/jobs/{job_id}")).json()


async def test_a_gpt_workflow_run_through_orchestrate_streams_its_steps_under_the_job_id(api, unique):
    definition = {
        "name": f"Via orchestrate {unique}",
        "steps": [chat("a", "Wanderweave", "one"), chat("b", "Shield Core", "two", waitFor=["a"])],
    }
    job = await api.post("/orchestrate", json={"intent": "gpt.workflow", "inputs": definition, "async": True})
    job_id = job.json()["job_id"]
    events = await read_events(api, f"/jobs/{job_id}/events", last_event_id="0")
    assert events[0].data["kind"] == "gpt_workflow"
    assert steps(events) == [("a", "started"), ("a", "succeeded"), ("b", "started"), ("b", "succeeded")]
    assert events[-1].data == (await api.get(f"/jobs/{job_id}")).json() and events[-1].data["status"] == "success"


async def test_a_step_waiting_for_a_human_shows_in_the_workflows_own_stream(api, unique):
    workflow_id = await create(api, {"name": f"Gated {unique}", "steps": [
        {"stepId": "gate", "action": "approval.request", "params": {"message": "Publish?", "expires_s": 600}},
        chat("publish", "ShowBuilder GPT", "publish it", waitFor=["gate"]),
    ]})  # fmt: skip
    assert (await api.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})).status_code == 202

    async def approve_when_asked() -> None:
        for _ in range(100):
            status = (await api.get(f"/api/gpt-workflows/{workflow_id}")).json()
            gate = status["steps"][0]
            if gate["state"] == "awaiting_approval":
                assert (await api.post(f"/jobs/{gate['job_id']}/approve", json={"note": "editor"})).status_code in (
                    200,
                    202,
                )
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the gate never waited")

    approving = asyncio.create_task(approve_when_asked())
    events = await read_events(api, f"/api/gpt-workflows/{workflow_id}/events", last_event_id="0")
    await approving

    approvals = [e.data for e in events if e.event == "approval"]
    assert [(a["step_id"], a["state"]) for a in approvals] == [("gate", "pending"), ("gate", "decided")]
    assert approvals[0]["job_id"] == f"{workflow_id}.gate" and approvals[1]["decision"]["approver"] == "api-key"
    order = [(e.event, e.data.get("step_id"), e.data.get("state")) for e in durable(events)]
    assert order.index(("approval", "gate", "decided")) < order.index(("step", "gate", "succeeded"))
    assert events[-1].data["status"] == "success"


async def test_a_fleet_streams_each_agent_as_a_step_under_its_own_route(api, unique):
    resp = await api.post(
        "/api/gpt-fleets/Creative/orchestrate", params={"wait": 0}, json={"objective": f"Campaign {unique}"}
    )
    workflow_id = resp.json()["workflow_id"]
    events = await read_events(api, f"/api/gpt-fleets/runs/{workflow_id}/events", last_event_id="0")
    agents = [a["name"] for a in (await api.get("/api/gpt-agents")).json()["agents"] if a["category"] == "Creative"]
    assert {sid for sid, state in steps(events) if state == "succeeded"} == set(agents)
    assert len([e for e in events if e.event == "usage"]) == len(agents)
    assert events[-1].data["status"] == "success" and events[-1].data["usage"]["total_tokens"] > 0
    assert events[-1].data == (await api.get(f"/jobs/{workflow_id}")).json()

    wrong_route = await api.get(f"/api/gpt-workflows/{workflow_id}/events")
    assert wrong_route.status_code == 404
