"""MCP tools through the gateway: listed via Temporal as mcp.<server>.<tool> intents, run over stdio and HTTP."""

from __future__ import annotations

import pytest

from intents import registry
from tests.support.stack import isolated_stack
from worker.mcp_intents import load_mcp_intents

TOOLS = {"add", "echo", "fail", "slow", "slow_lookup", "pid"}


def forget_mcp_intents() -> None:
    """The registry is per process: start each story from a gateway that has never seen a tool."""
    for name in registry.names():
        if name.startswith("mcp."):
            registry.unregister(name)


@pytest.fixture
async def mcp_api(client, settings, mcp_settings):
    forget_mcp_intents()
    async with isolated_stack(client, settings, mcp_servers=mcp_settings.mcp_servers) as (http, _):
        yield http


async def run(http, intent: str, inputs: dict, unique: str):
    return await http.post(
        "/orchestrate", json={"intent": intent, "inputs": inputs}, headers={"Idempotency-Key": f"{unique}-{intent}"}
    )


async def test_refreshing_intents_lists_every_servers_tools_with_their_schemas(mcp_api):
    resp = await mcp_api.get("/intents", params={"refresh": "1", "prefix": "mcp."})

    assert resp.status_code == 200, resp.text
    body = resp.json()
    listed = {i["name"]: i for i in body["intents"]}
    assert set(listed) == {f"mcp.{server}.{tool}" for server in ("local", "web") for tool in TOOLS}
    add = listed["mcp.web.add"]
    assert (add["mode"], add["route"], add["read_only"]) == ("mcp", "mcp.*", True)
    assert add["input_schema"]["required"] == ["a", "b"] and add["input_schema"]["properties"]["a"]["type"] == "integer"
    assert {s["server"]: (s["transport"], s["tools"]) for s in body["mcp"]["servers"]} == {
        "local": ("stdio", 6),
        "web": ("http", 6),
    }
    assert body["mcp"]["refreshed_at"]


@pytest.mark.parametrize("server", ["local", "web"])
async def test_a_tool_runs_through_orchestrate_in_mcp_mode(mcp_api, unique, server):
    await mcp_api.get("/intents", params={"refresh": "true"})

    resp = await run(mcp_api, f"mcp.{server}.add", {"a": 2, "b": 40}, unique)

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["mode"], body["result"]["text"], body["result"]["server"]) == ("mcp", "42", server)
    job = (await mcp_api.get(f"/jobs/{body['job_id']}")).json()
    assert (job["intent"], job["mode"], job["status"]) == (f"mcp.{server}.add", "mcp", "success")


async def test_a_tool_the_gateway_has_not_seen_is_looked_up_once_then_runs(mcp_api, unique):
    assert "mcp.web.echo" not in registry.names()

    resp = await run(mcp_api, "mcp.web.echo", {"text": "hello", "shout": True}, unique)

    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["text"] == "HELLO"


async def test_an_unknown_tool_is_a_400_that_names_the_intent(mcp_api, unique):
    resp = await run(mcp_api, "mcp.web.nope", {}, unique)

    assert resp.status_code == 400
    error = resp.json()["error"]
    assert (error["type"], error["field"]) == ("UnknownIntent", "intent")
    assert "mcp.web.add" in error["details"]["known"], "the lazy look-up listed the server's real tools"


@pytest.mark.parametrize(
    "inputs, field",
    [({"a": "two", "b": 1}, "inputs.a"), ({"a": 1}, "inputs.b")],
)
async def test_inputs_are_checked_against_the_tools_schema(mcp_api, unique, inputs, field):
    await mcp_api.get("/intents", params={"refresh": "1"})

    resp = await run(mcp_api, "mcp.local.add", inputs, unique)

    assert resp.status_code == 422
    assert resp.json()["error"]["field"] == field


async def test_a_failing_tool_is_a_clear_job_error(mcp_api, unique):
    await mcp_api.get("/intents", params={"refresh": "1"})

    resp = await run(mcp_api, "mcp.web.fail", {"reason": "disk full"}, unique)

    assert resp.status_code == 502
    body = resp.json()
    assert body["error"]["type"] == "ToolError" and "disk full" in body["error"]["message"]
    job = (await mcp_api.get(f"/jobs/{body['job_id']}")).json()
    assert (job["status"], job["error"]["type"]) == ("error", "ToolError")


async def test_a_starting_worker_registers_its_servers_tools(mcp_settings):
    forget_mcp_intents()

    catalog = await load_mcp_intents(mcp_settings)

    assert {entry.server for entry in catalog.servers} == {"local", "web"}
    spec = registry.get("mcp.local.echo")
    assert spec.mode == "mcp" and spec.input_model.model_json_schema()["required"] == ["text"]
