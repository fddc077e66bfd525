"""A real third-party MCP server from PyPI (`mcp-server-time`, a dev dependency, installed by `make test`'s
bootstrap) called through /orchestrate, and seen by a GPT with its descriptions marked as third-party text:
in GET /intents and in the gateway's own /mcp tool list."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from config.mcp_servers import McpServerConfig
from tests.mcp.test_mcp_through_orchestrate import forget_mcp_intents
from tests.mcp_server.conftest import mcp_session
from tests.support.stack import isolated_stack

SERVER = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent)) or shutil.which("mcp-server-time")


@pytest.fixture
async def time_api(client, settings):
    assert SERVER, "mcp-server-time is a dev dependency: `uv sync` installs it"
    forget_mcp_intents()
    servers = {
        "time": McpServerConfig(command=[SERVER, "--local-timezone", "UTC"], tools=["get_current_time", "convert_time"])
    }
    async with isolated_stack(client, settings, mcp_servers=servers) as (http, _):
        yield http
    forget_mcp_intents()


async def test_mcp_server_time_answers_through_orchestrate(time_api):
    listed = (await time_api.get("/intents", params={"refresh": "1", "prefix": "mcp.time."})).json()
    by_name = {i["name"]: i for i in listed["intents"]}
    assert set(by_name) == {"mcp.time.get_current_time", "mcp.time.convert_time"}
    assert by_name["mcp.time.get_current_time"]["description"].startswith("[third-party text from MCP server 'time'")

    resp = await time_api.post(
        "/orchestrate", json={"intent": "mcp.time.get_current_time", "inputs": {"timezone": "Europe/Lisbon"}}
    )
    assert resp.status_code == 200, resp.text
    result = resp.json()["result"]
    assert result["server"] == "time" and "Europe/Lisbon" in result["text"]

    async with mcp_session(str(time_api.base_url)) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
        called = await mcp.call_tool("mcp_time_get_current_time", {"timezone": "Asia/Tokyo"})
    assert tools["mcp_time_get_current_time"].description.startswith("[third-party text from MCP server 'time'")
    assert not called.isError and "Asia/Tokyo" in called.structuredContent["result"]["text"]
