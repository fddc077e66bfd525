"""A configuration mistake is the operator's, and the client is told so: 503 Misconfigured naming the
setting, file and field, never a 500. (The README walk-through, written with $USER unset.)"""

import textwrap
from pathlib import Path

from config import Settings
from gateway.app import create_app
from tests.support.gateway import LiveServer, api_client
from worker.devserver import free_port

INVENTORY_WITH_EMPTY_USER = """
hosts:
  local:
    address: 127.0.0.1
    port: 22
    user:
    key_file: ~/.ssh/orchestrator_ed25519
"""


def offline_settings(tmp_path: Path, **overrides) -> Settings:
    """No Temporal needed: these requests are answered before anything starts."""
    values = dict(
        api_key="test-api-key", temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path, agents_file=None
    )
    return Settings(**(values | overrides))


async def test_an_inventory_with_an_empty_user_makes_every_ssh_request_a_503_naming_the_setting(tmp_path):
    hosts = tmp_path / "ssh_hosts.yaml"
    hosts.write_text(INVENTORY_WITH_EMPTY_USER)
    async with (
        LiveServer(create_app(offline_settings(tmp_path, ssh_hosts_file=hosts))) as server,
        api_client(server.url) as http,
    ):
        peek = await http.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "local", "command": "uptime"}}
        )
        again = await http.post(
            "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "local", "command": "df -h"}}
        )

    for resp in (peek, again):
        assert resp.status_code == 503, resp.text
        assert resp.headers["Retry-After"]
        error = resp.json()["error"]
        assert error["type"] == "Misconfigured"
        assert error["message"].startswith(f"SSH_HOSTS_FILE ({hosts}): host 'local': user: ")


async def test_a_broken_agents_file_makes_the_agent_routes_a_503_naming_it(tmp_path):
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        textwrap.dedent("""
        agents:
          - {name: Wanderweave, category: Creative, description: travel}
    """)
    )  # no system_prompt
    async with (
        LiveServer(create_app(offline_settings(tmp_path, agents_file=agents))) as server,
        api_client(server.url) as http,
    ):
        responses = [
            await http.get("/api/gpt-agents"),
            await http.get("/api/gpt-fleets"),
            await http.post("/api/gpt-fleets/Creative/orchestrate", json={"objective": "plan a trip"}),
            await http.post("/api/gpt-workflows/create", json={"name": "x", "steps": [
                {"stepId": "a", "gpt": "Wanderweave", "action": "message", "params": {"message": "hi"}}]}),
        ]  # fmt: skip

    for resp in responses:
        assert resp.status_code == 503, (resp.request.url, resp.text)
        error = resp.json()["error"]
        assert error["type"] == "Misconfigured"
        assert error["message"].startswith("AGENTS_FILE: ") and "system_prompt" in error["message"]
