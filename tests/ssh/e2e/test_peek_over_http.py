"""A ChatGPT user asks "check disk space on web-1": POST /orchestrate runs a read-only peek at once."""

from __future__ import annotations

from tests.ssh.e2e.conftest import activity_runs


async def test_disk_space_of_a_host_comes_back_at_once(ssh_stack):
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "web-1", "command": "df -h"}}
        )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "success" and body["intent"] == "ssh.exec.peek" and body["mode"] == "agent"
    result = body["result"]
    assert result["host"] == "web-1" and result["command"] == "df -h" and result["exit_status"] == 0
    assert "Filesystem" in result["stdout"] and result["truncated"] is False


async def test_a_long_output_is_cut_with_a_marker(ssh_stack):
    async with ssh_stack(ssh_max_output_chars=500) as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "web-1", "command": "seq 1 50000"}}
        )
    assert resp.status_code == 200, resp.text
    result = resp.json()["result"]
    assert result["truncated"] is True and result["exit_status"] == 0
    kept, _, note = result["stdout"].partition("\n[... truncated: ")
    assert len(kept) <= 500 and kept.startswith("1\n2\n3\n")
    dropped = len("".join(f"{n}\n" for n in range(1, 50001))) - 500
    assert note == f"{dropped} more characters not shown ...]"


async def test_a_host_presenting_the_wrong_key_is_refused_once_and_for_all(ssh_stack, client):
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": "impostor", "command": "uptime"}}
        )
    assert resp.status_code == 502, resp.text
    body = resp.json()
    assert body["job_status"] == "error"
    assert body["error"]["type"] == "HostKeyMismatch"
    assert "host key does not match" in body["error"]["message"]
    # Not retryable: the one attempt was the last (a lost connection would have been tried 3 times).
    [peek] = await activity_runs(client, body["job_id"], "ssh.exec.peek")
    assert peek.attempt == 1


async def test_a_command_that_outruns_its_host_limit_is_a_504(ssh_stack):
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "quick", "command": "sleep 30"}}
        )
    assert resp.status_code == 504, resp.text
    assert resp.json()["error"]["type"] == "SshCommandTimeout"
