"""Auto routing: one table of intent patterns -> engine; specs agree with it; a contradiction says why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import BaseModel

import intents
from gateway.app import create_app
from intents import registry
from intents.routing import DEFAULT_TABLE, RoutingConflict, RoutingTable
from intents.spec import IntentSpec, Mode
from tests.support.stack import isolated_stack


class Nothing(BaseModel):
    pass


def spec(name: str, mode: Mode) -> IntentSpec:
    return IntentSpec(
        name=name,
        mode=mode,
        description="test",
        input_model=Nothing,
        activity="x",
        read_only=True,
        timeout=timedelta(seconds=1),
    )


def test_the_shipped_table_routes_every_shipped_intent_to_the_engine_that_handles_it():
    expected = {"memory.write": Mode.WORKER, "ssh.exec": Mode.WORKER, "gmail.triage": Mode.FLOW, "slack.summarize": Mode.FLOW,
                "digest.daily": Mode.FLOW, "mcp.files.read": Mode.MCP}  # fmt: skip
    assert {name: DEFAULT_TABLE.route_for(name).mode for name in expected} == expected
    for intent in (spec for family in intents.SHIPPED_FAMILIES for spec in family.INTENTS):
        route = DEFAULT_TABLE.route_for(intent.name)
        assert route is not None, f"{intent.name} has no route: add its family to intents/routing.py"
        assert route.mode == intent.mode, (
            f"{intent.name}: route {route.pattern} says {route.mode}, spec says {intent.mode}"
        )


def test_a_spec_that_contradicts_its_route_cannot_be_registered():
    with pytest.raises(RoutingConflict, match="gmail.archive.*flow"):
        registry.register(spec("gmail.archive", Mode.WORKER))
    assert "gmail.archive" not in registry.names()


def test_an_override_may_route_a_new_family_but_not_move_an_intent_off_its_handler(settings):
    table = RoutingTable.with_overrides({"crm.*": "mcp", "gmail.search": "flow"})
    assert table.route_for("crm.lookup").mode == Mode.MCP and table.route_for("gmail.search").source == "override"

    with pytest.raises(RoutingConflict, match="memory.write.*agent.*memory"):
        create_app(settings.model_copy(update={"intent_routes": {"memory.*": "flow"}}))
    with pytest.raises(RoutingConflict, match="pattern"):
        RoutingTable.with_overrides({"crm lookup": "mcp"})


async def test_the_routing_table_and_each_intents_route_are_listed(client, settings):
    async with isolated_stack(client, settings, intent_routes={"crm.*": "mcp"}) as (http, _):
        body = (await http.get("/intents")).json()

    assert body["routes"][0] == {"pattern": "crm.*", "mode": "mcp", "source": "override"}
    assert {"pattern": "gmail.*", "mode": "flow", "source": "default"} in body["routes"]
    routes = {i["name"]: (i["mode"], i["route"]) for i in body["intents"]}
    assert routes["memory.write"] == ("agent", "memory.*") and routes["gmail.triage"] == ("flow", "gmail.*")


@pytest.mark.parametrize(
    "intent, inputs, mode", [("memory.write", {"text": "x"}, "flow"), ("gmail.search", {"query": "x"}, "agent")]
)
async def test_an_explicit_mode_that_contradicts_the_intent_is_a_400_that_says_why(api, intent, inputs, mode):
    resp = await api.post("/orchestrate", json={"intent": intent, "inputs": inputs, "mode": mode})

    assert resp.status_code == 400
    error = resp.json()["error"]
    assert (error["type"], error["field"]) == ("ModeMismatch", "mode")
    resolved = registry.get(intent).mode
    assert f"runs in {resolved} mode" in error["message"] and f"no {mode} handler" in error["message"]
    assert error["details"] == {"requested": mode, "resolved": str(resolved), "route": intent.split(".")[0] + ".*"}


async def test_auto_and_the_matching_explicit_mode_resolve_the_same_and_record_it(api, unique):
    for mode in ("auto", "agent"):
        resp = await api.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"routed {unique}"}, "mode": mode}
        )
        assert resp.status_code == 200 and resp.json()["mode"] == "agent"
    job = (await api.get(f"/jobs/{resp.json()['job_id']}")).json()
    assert job["mode"] == "agent"
