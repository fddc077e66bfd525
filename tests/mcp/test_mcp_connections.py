"""A server that cannot be reached is retried; one that cannot exist is not; one dead server hides no other."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mcp import McpActivities
from config import Settings
from intents.mcp import McpListRequest, McpToolCall


def activities(**servers) -> McpActivities:
    return McpActivities(Settings(mcp_servers=servers))


async def test_an_http_server_that_is_down_is_retryable(env, unused_tcp_port):
    mcp = activities(down={"url": f"http://127.0.0.1:{unused_tcp_port}/mcp", "timeout_s": 5})
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.call_tool, McpToolCall(server="down", tool="add", arguments={"a": 1, "b": 1}))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable


async def test_a_stdio_server_that_dies_at_start_is_retryable(env):
    mcp = activities(crashy={"command": [sys.executable, "-c", "import sys; sys.exit(3)"], "timeout_s": 5})
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.call_tool, McpToolCall(server="crashy", tool="add"))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable


async def test_a_missing_executable_is_not_retried(env):
    mcp = activities(ghost={"command": ["/nonexistent/mcp-server"]})
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.call_tool, McpToolCall(server="ghost", tool="add"))
    assert (
        info.value.type == "UpstreamUnavailable"
        and info.value.non_retryable
        and "cannot be started" in info.value.message
    )


async def test_a_slow_read_only_tool_times_out_and_is_retryable(env, mcp_http_url):
    mcp = activities(web={"url": mcp_http_url, "timeout_s": 0.5})
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.call_tool, McpToolCall(server="web", tool="slow_lookup", arguments={"seconds": 3}))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable


async def test_a_tool_that_may_change_things_is_never_run_twice_blindly(env, mcp_http_url):
    mcp = activities(web={"url": mcp_http_url, "timeout_s": 0.5})
    call = McpToolCall(server="web", tool="slow", arguments={"seconds": 3})
    with pytest.raises(ApplicationError) as first:
        await env.run(mcp.call_tool, call)
    # The call left before the timeout: it may have run, so it is not retried.
    assert first.value.type == "ToolOutcomeUnknown" and first.value.non_retryable

    # A retry of an attempt that died after sending (its heartbeat says so) refuses too.
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2, heartbeat_details=["call_sent"])
    with pytest.raises(ApplicationError) as second:
        await retry.run(mcp.call_tool, McpToolCall(server="web", tool="slow", arguments={"seconds": 0}))
    assert second.value.type == "ToolOutcomeUnknown" and "may have run" in second.value.message


async def test_the_catalog_reports_a_dead_server_and_still_lists_the_others(env, mcp_http_url, unused_tcp_port):
    mcp = activities(web={"url": mcp_http_url}, down={"url": f"http://127.0.0.1:{unused_tcp_port}/mcp"})
    catalog = await env.run(mcp.list_tools, McpListRequest())
    by_server = {entry.server: entry for entry in catalog.servers}
    assert by_server["down"].error and not by_server["down"].tools
    assert {t.name for t in by_server["web"].tools} >= {"add", "echo"}
    # Asked for that one server alone, the failure is the answer (retryable).
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.list_tools, McpListRequest(server="down"))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable
