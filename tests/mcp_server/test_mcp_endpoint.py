"""An MCP client configured with the gateway URL and a key lists the platform's tools, runs intents and a
GPT workflow with progress, and reads results back: the official `mcp` client over streamable HTTP."""

from __future__ import annotations

from tests.mcp_server.conftest import mcp_session

TRAVEL = {
    "name": "MCP travel",
    "steps": [
        {"stepId": "research", "gpt": "Wanderweave", "action": "message", "params": {"message": "Research Lisbon"}},
        {
            "stepId": "write",
            "gpt": "Wanderweave",
            "action": "message",
            "params": {"message": "Write it up"},
            "waitFor": ["research"],
        },
    ],
}


async def test_the_client_lists_every_intent_and_the_platform_tools(gateway):
    async with mcp_session(gateway) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert {
        "memory_write",
        "memory_search",
        "ssh_exec",
        "run_gpt_workflow",
        "orchestrate_fleet",
        "get_job",
        "list_agents",
    } <= set(tools)
    write, search = tools["memory_write"], tools["memory_search"]
    assert "text" in write.inputSchema["properties"] and "tenant" not in write.inputSchema.get("properties", {})
    assert write.annotations.destructiveHint is True and write.annotations.readOnlyHint is False
    assert search.annotations.readOnlyHint is True and search.annotations.idempotentHint is True
    assert write.title and write.outputSchema["properties"]["job_id"]


async def test_memory_write_then_memory_search_finds_it(gateway, unique):
    async with mcp_session(gateway) as mcp:
        wrote = await mcp.call_tool(
            "memory_write", {"text": f"MCP clients like durable jobs {unique}", "tags": ["mcp"]}
        )
        assert not wrote.isError, wrote.content
        assert wrote.structuredContent["status"] == "success" and wrote.structuredContent["job_id"].startswith("orch-")
        found = await mcp.call_tool("memory_search", {"query": f"durable jobs {unique}", "k": 3})
    hits = found.structuredContent["result"]["hits"]
    assert unique in hits[0]["text"]


async def test_bad_arguments_are_a_tool_error_naming_the_field(gateway):
    async with mcp_session(gateway) as mcp:
        result = await mcp.call_tool("memory_write", {"tags": ["no text"]})
    assert result.isError and '"field": "text"' in result.content[0].text


async def test_a_gpt_workflow_reports_progress_and_its_result_reads_back(gateway):
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with mcp_session(gateway) as mcp:
        result = await mcp.call_tool("run_gpt_workflow", TRAVEL, progress_callback=on_progress)
        assert not result.isError, result.content
        body = result.structuredContent
        assert body["status"] == "success"
        assert [s["state"] for s in body["result"]["steps"]] == ["succeeded", "succeeded"]
        job = await mcp.call_tool("get_job", {"job_id": body["job_id"]})
    assert job.structuredContent["status"] == "success"
    assert seen and seen[-1][:2] == (2.0, 2.0) and "2/2 steps done" in seen[-1][2]
    assert [p for p, _, _ in seen] == sorted({p for p, _, _ in seen})  # progress only ever advances
