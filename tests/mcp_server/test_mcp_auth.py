"""/mcp takes the same keys and roles as the HTTP API: no key or a wrong key is a 401 (with the OAuth
challenge), an approver may read but not run, a caller may run but never approve."""

from __future__ import annotations

import httpx
import pytest
from mcp.shared.exceptions import McpError

from tests.auth.conftest import keyed_gateway
from tests.mcp_server.conftest import mcp_session

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}  # fmt: skip
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
async def keyed(client, settings, worker, tmp_path):
    async with keyed_gateway(client, settings, tmp_path / "api_keys.yaml") as gateway:
        yield gateway


@pytest.mark.parametrize("token", [None, "gpo_not-a-key"])
async def test_without_a_valid_key_mcp_is_a_401_with_a_bearer_challenge(keyed, token):
    headers = ACCEPT | ({"Authorization": f"Bearer {token}"} if token else {})
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{keyed.url}/mcp", json=INIT, headers=headers)
        get = await http.get(f"{keyed.url}/mcp", headers=headers)
    assert resp.status_code == 401 and resp.json()["error"]["type"] == "Unauthorized"
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert get.status_code == 401
    with pytest.raises((McpError, httpx.HTTPStatusError, Exception)):
        async with mcp_session(keyed.url, token):
            pass


async def test_an_approver_key_reads_but_cannot_run(keyed):
    async with mcp_session(keyed.url, keyed.tokens["acme-lead"]) as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        refused = await mcp.call_tool("memory_write", {"text": "approvers do not run jobs"})
    assert names == {"get_job", "list_agents"}
    assert refused.isError and '"type": "Forbidden"' in refused.content[0].text


async def test_a_caller_key_runs_in_its_tenant_and_cannot_approve(keyed, unique):
    async with mcp_session(keyed.url, keyed.tokens["acme-gpt"]) as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        wrote = await mcp.call_tool("memory_write", {"text": f"acme only {unique}"})
        job_id = wrote.structuredContent["job_id"]
        job = await mcp.call_tool("get_job", {"job_id": job_id})
    assert not any("approve" in n or "reject" in n for n in names), "no tool decides on approvals"
    assert job.structuredContent["requested_by"] == "acme-gpt" and job.structuredContent["tenant"] == "acme"
    async with mcp_session(keyed.url, keyed.tokens["globex-gpt"]) as other:
        theirs = await other.call_tool("get_job", {"job_id": job_id})
    assert theirs.isError and '"type": "NotFound"' in theirs.content[0].text
