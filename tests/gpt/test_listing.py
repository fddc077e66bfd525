"""What exists: agents, fleets, and GPT workflows found by state and name through Temporal visibility."""

import asyncio

from tests.gpt.helpers import chat, create, run


async def listed(api, **params) -> list[dict]:
    resp = await api.get("/api/gpt-workflows", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def eventually_listed(api, expected: set[str], **params) -> list[dict]:
    for _ in range(50):  # visibility is eventually consistent
        items = await listed(api, **params)
        if {i["workflow_id"] for i in items} == expected:
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"{params}: expected {expected}, got {items}")


async def test_workflows_are_listed_by_name_and_state(api, unique):
    name = f"Launch plan {unique}"
    waiting = await create(api, {"name": name, "steps": [chat("a", "Wanderweave")]})
    done = (await run(api, {"name": name, "steps": [chat("a", "Wanderweave")]}))["workflow_id"]

    both = await eventually_listed(api, {waiting, done}, name=name)
    assert {i["state"] for i in both} == {"created", "succeeded"} and {i["name"] for i in both} == {name}
    assert [i["workflow_id"] for i in await eventually_listed(api, {waiting}, name=name, status="created")] == [waiting]
    assert [i["workflow_id"] for i in await eventually_listed(api, {done}, name=name, status="succeeded")] == [done]
    assert await listed(api, name=name, status="running") == []

    bad = await api.get("/api/gpt-workflows", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"


async def test_agents_and_fleets_are_listed(api):
    agents = (await api.get("/api/gpt-agents")).json()["agents"]
    fleets = {f["category"]: f for f in (await api.get("/api/gpt-fleets")).json()["fleets"]}

    wanderweave = next(a for a in agents if a["name"] == "Wanderweave")
    assert wanderweave["category"] == "Creative" and wanderweave["provider"] == "offline"
    assert set(fleets["Creative"]["agents"]) >= {"Wanderweave", "Design Studio Pro", "ShowBuilder GPT"}
    assert set(fleets["Security"]["agents"]) >= {"Aegis Sentinel", "Sentinel Audit Nexus", "Shield Core"}
