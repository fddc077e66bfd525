"""A definition that cannot run is refused at create time with a 400 that says exactly why."""

import pytest

from tests.gpt.helpers import chat


def definition(*steps, parallel=True) -> dict:
    return {"name": "Broken on purpose", "parallel": parallel, "steps": list(steps)}


CASES = [
    (
        "duplicate stepIds",
        definition(chat("a", "Wanderweave"), chat("a", "Shield Core")),
        "steps[1].stepId", "InvalidWorkflowDefinition", "duplicate stepId 'a'",
    ),
    (
        "waitFor names an unknown step",
        definition(chat("a", "Wanderweave"), chat("b", "Shield Core", waitFor=["aa"])),
        "steps[1].waitFor[0]", "InvalidWorkflowDefinition", "unknown step 'aa'",
    ),
    (
        "a cycle, named",
        definition(chat("a", "Wanderweave", waitFor=["c"]), chat("b", "Shield Core", waitFor=["a"]), chat("c", "Shield Core", waitFor=["b"])),
        "steps[0].waitFor", "InvalidWorkflowDefinition", "a -> c -> b -> a",
    ),
    (
        "an unknown agent, with a suggestion",
        definition(chat("a", "Wanderwave")),
        "steps[0].gpt", "UnknownAgent", "Wanderweave",
    ),
    (
        "an unknown intent",
        definition({"stepId": "a", "action": "memory.wirte", "params": {"text": "x"}}),
        "steps[0].action", "UnknownIntent", "memory.write",
    ),
    (
        "a bad condition expression",
        definition(chat("a", "Wanderweave"), chat("b", "Shield Core", waitFor=["a"], condition="steps.a.output >")),
        "steps[1].condition", "InvalidWorkflowDefinition", "bad condition",
    ),
    (
        "a whole workflow as a step",
        definition({"stepId": "a", "action": "gpt.workflow", "params": {}}),
        "steps[0].action", "UnknownIntent", "cannot be a step",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("story", "body", "field", "error_type", "says"), CASES, ids=[c[0] for c in CASES])
async def test_create_refuses_it_with_a_precise_400(api, story, body, field, error_type, says):
    resp = await api.post("/api/gpt-workflows/create", json=body)

    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["field"] == field
    assert error["type"] == error_type
    assert says in error["message"]


async def test_the_same_checks_guard_the_gpt_workflow_intent(api):
    body = definition(chat("a", "Wanderweave"), chat("b", "Shield Core", waitFor=["zz"]))
    resp = await api.post("/orchestrate", json={"intent": "gpt.workflow", "inputs": body})
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == "inputs.steps[1].waitFor[0]"


async def test_a_malformed_definition_is_422_naming_the_field(api):
    resp = await api.post(
        "/api/gpt-workflows/create", json={"name": "x", "steps": [{"gpt": "Wanderweave", "action": "message"}]}
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["field"].startswith("steps.0")


async def test_unknown_fleet_is_400_with_suggestions(api):
    resp = await api.post("/api/gpt-fleets/Creativ/orchestrate", json={"objective": "x"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["type"] == "UnknownAgent" and error["field"] == "category"
    assert "Creative" in error["message"]
