"""A server's catalog becomes mcp.<server>.<tool> intents that validate inputs against each tool's schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from intents.mcp import (
    McpCatalog,
    McpListRequest,
    McpServerTools,
    McpToolInfo,
    catalog_to_specs,
    spec_for_tool,
    tool_call_for,
)
from intents.spec import Mode


async def test_the_live_catalog_becomes_intents(env, mcp):
    catalog = await env.run(mcp.list_tools, McpListRequest(server="web"))
    specs = {spec.name: spec for spec in catalog_to_specs(catalog)}
    assert set(specs) == {
        "mcp.web.add",
        "mcp.web.echo",
        "mcp.web.fail",
        "mcp.web.slow",
        "mcp.web.slow_lookup",
        "mcp.web.pid",
    }
    add = specs["mcp.web.add"]
    assert (add.mode, add.activity, add.read_only) == (Mode.MCP, "mcp.call_tool", True)
    assert specs["mcp.web.fail"].read_only is False  # no readOnlyHint: treated as consequential
    assert add.public()["input_schema"]["properties"]["a"]["type"] == "integer"

    inputs = add.input_model.model_validate({"a": 1, "b": 2})
    assert add.summary_for(inputs) == 'mcp.web.add: web/add {"a":1,"b":2}'
    call = tool_call_for(add.name, inputs.model_dump())
    assert (call.server, call.tool, call.arguments) == ("web", "add", {"a": 1, "b": 2})
    assert (await env.run(mcp.call_tool, call))["text"] == "3"


def test_input_errors_name_the_field():
    schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "options": {"type": "object", "properties": {"depth": {"type": "integer", "minimum": 1}}},
        },
        "required": ["path", "mode"],
    }
    spec = spec_for_tool("files", McpToolInfo(name="read.tree", input_schema=schema))
    assert spec.name == "mcp.files.read.tree"
    with pytest.raises(ValidationError) as info:
        spec.input_model.model_validate({"options": {"depth": 0}})
    errors = {err["loc"]: err["type"] for err in info.value.errors()}
    assert errors == {("path",): "missing", ("mode",): "missing", ("options", "depth"): "json_schema"}
    with pytest.raises(ValidationError):
        spec.input_model.model_validate(["not", "an", "object"])


def test_unusable_tools_and_failed_servers_are_left_out():
    catalog = McpCatalog(
        servers=[
            McpServerTools(
                server="ok",
                transport="http",
                tools=[
                    McpToolInfo(name="good"),
                    McpToolInfo(name="has space"),
                    McpToolInfo(
                        name="broken", input_schema={"type": "object", "properties": {"x": {"type": "no-such-type"}}}
                    ),
                ],
            ),
            McpServerTools(server="down", transport="stdio", error="unreachable"),
        ]
    )
    assert [spec.name for spec in catalog_to_specs(catalog)] == ["mcp.ok.good"]
    with pytest.raises(ValueError):
        tool_call_for("memory.write", {})
