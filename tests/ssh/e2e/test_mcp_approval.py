"""Over MCP, a dangerous ssh_exec answers that it awaits approval and where to give it; nothing runs until
an approver decides through the approvals API."""

from __future__ import annotations

from tests.mcp_server.conftest import mcp_session
from tests.ssh.e2e.conftest import dangerous
from tests.support.stack import poll_job


async def test_a_dangerous_ssh_exec_over_mcp_awaits_approval_and_says_where(ssh_stack, marker, doomed_dir):
    command = dangerous(marker, doomed_dir)
    async with ssh_stack(public_url="https://orchestrator.example.com") as (http, _):
        async with mcp_session(str(http.base_url)) as mcp:
            result = await mcp.call_tool("ssh_exec", {"host": "web-1", "command": command})
        body = result.structuredContent
        assert not result.isError and body["status"] == "awaiting_approval", result.content
        assert "https://orchestrator.example.com/jobs/" + body["job_id"] + "/approve" in body["message"]
        assert (
            body["approval_request"]["command"] == command
            if "command" in body["approval_request"]
            else body["approval_request"]
        )
        assert not marker.exists(), "nothing runs before the decision"
        approved = await http.post(f"/jobs/{body['job_id']}/approve", json={"reason": "planned"})
        assert approved.status_code == 200, approved.text
        assert (await poll_job(http, body["job_id"]))["status"] == "success" and marker.exists()
