"""An MCP tool fails and quotes a credential its server was configured with (an env secret of a stdio
server): the caller gets the tool's error, and the credential is in none of the HTTP answer,
GET /jobs/{id}, the history or the logs."""

from __future__ import annotations

import json
import sys

from config.mcp_servers import McpServerConfig
from tests.mcp.conftest import REPO
from tests.mcp.test_mcp_through_orchestrate import forget_mcp_intents
from tests.support.leaks import captured_logs, history_text, leaks
from tests.support.mcp_server import STDIO_ARGS
from tests.support.stack import isolated_stack, poll_job

TOKEN = "tool-api-token-5be07d"


async def test_a_tool_error_quoting_a_configured_secret_does_not_repeat_it(client, settings, unique):
    forget_mcp_intents()
    careless = McpServerConfig(command=[sys.executable, *STDIO_ARGS], cwd=str(REPO), env={"TOOL_API_TOKEN": TOKEN})
    with captured_logs() as logs:
        async with isolated_stack(client, settings, mcp_servers={"careless": careless}, sync_timeout_s=30) as (http, _):
            listed = await http.get("/intents", params={"refresh": "1", "prefix": "mcp."})
            assert "mcp.careless.fail" in listed.text, listed.text
            resp = await http.post("/orchestrate", json={"intent": "mcp.careless.fail", "inputs": {"reason": unique}})
            assert resp.status_code == 502, resp.text
            job_id = resp.json()["job_id"]
            job = await poll_job(http, job_id)

    assert resp.status_code == 502 and resp.json()["error"]["type"] == "ToolError"
    message = resp.json()["error"]["message"]
    assert f"fail tool refused: {unique} (upstream rejected token [redacted])" in message, message
    history = await history_text(client, job_id)
    assert "upstream rejected token [redacted]" in history
    assert "Completing activity as failed" in logs.getvalue(), "the logs hold the worker's line about the failure"
    for where, text in {
        "HTTP answer": resp.text,
        "GET /jobs": json.dumps(job),
        "history": history,
        "logs": logs.getvalue(),
    }.items():
        assert leaks(TOKEN, text) == [], where
