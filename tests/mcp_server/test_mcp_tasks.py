"""A client that speaks the spec's Tasks gets the job's ID as its task ID at once, reads its status,
waits for its result, and can cancel it, all mapped onto the Temporal job."""

from __future__ import annotations

import asyncio

from mcp.types import CallToolResult

from tests.mcp_server.conftest import mcp_session
from tests.mcp_server.test_mcp_endpoint import TRAVEL


async def test_a_tool_called_as_a_task_is_its_job(gateway, unique):
    async with mcp_session(gateway) as mcp:
        created = await mcp.experimental.call_tool_as_task("memory_write", {"text": f"task {unique}"})
        task_id = created.task.taskId
        assert task_id.startswith("orch-") and created.task.status == "working"
        result = await mcp.experimental.get_task_result(task_id, CallToolResult)
        assert result.structuredContent["status"] == "success" and result.structuredContent["job_id"] == task_id
        task = await mcp.experimental.get_task(task_id)
    assert task.status == "completed"


async def test_a_gpt_workflow_task_can_be_cancelled(gateway):
    slow = TRAVEL | {"name": "slow travel", "steps": [
        {"stepId": "wait", "action": "approval.request", "params": {"message": "hold", "expires_s": 600}},
    ]}  # fmt: skip
    async with mcp_session(gateway) as mcp:
        created = await mcp.experimental.call_tool_as_task("run_gpt_workflow", slow)
        task_id = created.task.taskId
        assert task_id.startswith("gptwf-")
        await asyncio.sleep(0.5)
        cancelled = await mcp.experimental.cancel_task(task_id)
        assert cancelled.status == "cancelled"
        for _ in range(50):
            if (await mcp.experimental.get_task(task_id)).status == "cancelled":
                break
            await asyncio.sleep(0.2)
        assert (await mcp.experimental.get_task(task_id)).status == "cancelled"
