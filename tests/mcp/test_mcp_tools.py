"""Call MCP tools through the activity, over stdio and streamable HTTP, and get clear errors back."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from intents.mcp import McpListRequest, McpToolCall, McpToolOutput


async def failure(env, mcp, call: McpToolCall) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await env.run(mcp.call_tool, call)
    return info.value


async def test_both_transports_list_the_same_tools_with_schemas(env, mcp):
    catalog = await env.run(mcp.list_tools, McpListRequest())
    by_server = {entry.server: entry for entry in catalog.servers}
    assert {s: e.transport for s, e in by_server.items()} == {"local": "stdio", "web": "http"}
    for entry in by_server.values():
        assert entry.error is None
        tools = {t.name: t for t in entry.tools}
        assert set(tools) == {"add", "echo", "fail", "slow", "slow_lookup", "pid"}
        assert tools["add"].input_schema["required"] == ["a", "b"]
        assert tools["add"].read_only_hint is True and tools["fail"].read_only_hint is None


async def test_a_stdio_tool_answers_and_a_failing_one_is_a_tool_error(env, mcp):
    result = await env.run(mcp.call_tool, McpToolCall(server="local", tool="add", arguments={"a": 2, "b": 40}))
    assert McpToolOutput.model_validate(result).text == "42" and result["structured"] == {"result": 42}
    err = await failure(env, mcp, McpToolCall(server="local", tool="fail", arguments={"reason": "disk full"}))
    assert err.type == "ToolError" and err.non_retryable and "disk full" in err.message


async def test_an_http_tool_answers(env, mcp):
    result = await env.run(
        mcp.call_tool, McpToolCall(server="web", tool="echo", arguments={"text": "hi", "shout": True})
    )
    assert result["text"] == "HI" and result["content"] == [{"type": "text", "text": "HI"}]


async def test_tool_errors_unknown_tools_and_bad_arguments_are_not_retried(env, mcp):
    tool_error = await failure(env, mcp, McpToolCall(server="web", tool="fail"))
    assert tool_error.type == "ToolError" and "fail tool refused: it broke" in tool_error.message

    unknown_tool = await failure(env, mcp, McpToolCall(server="web", tool="ad"))
    assert unknown_tool.type == "NotFound" and unknown_tool.non_retryable and "did you mean add" in unknown_tool.message

    bad_args = await failure(env, mcp, McpToolCall(server="web", tool="add", arguments={"a": "two"}))
    assert bad_args.type == "ValidationError" and bad_args.non_retryable
    assert "a: 'two' is not of type 'integer'" in bad_args.message and "b: required" in bad_args.message

    unknown_server = await failure(env, mcp, McpToolCall(server="nowhere", tool="add"))
    assert unknown_server.type == "NotFound" and "local, web" in unknown_server.message
