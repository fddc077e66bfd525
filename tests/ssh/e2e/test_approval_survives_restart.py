"""An approval can come hours later: the worker that started the job may be long gone by then."""

from __future__ import annotations

from gateway.app import create_app
from tests.ssh.e2e.conftest import activity_runs, dangerous
from tests.support.gateway import LiveServer, api_client
from tests.support.processes import crash, start_worker, stop
from tests.support.stack import poll_job


async def test_a_job_awaiting_approval_outlives_its_worker(client, settings, hosts_file, unique, marker, doomed_dir):
    local = settings.model_copy(update={"task_queue": f"ssh-restart-{unique}", "ssh_hosts_file": hosts_file})
    env = {"SSH_HOSTS_FILE": str(hosts_file)}  # the worker process reads its settings from the environment
    first = start_worker(local, **env)
    second = None
    try:
        async with LiveServer(create_app(local, client=client)) as server, api_client(server.url) as http:
            inputs = {"host": "web-1", "command": dangerous(marker, doomed_dir)}
            resp = await http.post("/orchestrate", json={"intent": "ssh.exec", "inputs": inputs, "async": True})
            assert resp.status_code == 202, resp.text
            job_id = resp.json()["job_id"]
            await poll_job(http, job_id, until=("awaiting_approval",), timeout=60)  # includes the worker's start-up

            crash(first)
            second = start_worker(local, **env)
            assert not marker.exists()

            approved = await http.post(f"/jobs/{job_id}/approve", json={"approver": "carol"})
            assert approved.status_code in (200, 202), approved.text
            job = await poll_job(http, job_id, timeout=60)
    finally:
        stop(first)
        if second:
            stop(second)

    assert job["status"] == "success", job
    assert job["approval"]["decision"] == "approved" and job["approval"]["approver"] == "api-key"
    assert marker.exists() and not doomed_dir.exists()
    [run] = await activity_runs(client, job_id, "ssh.exec")
    assert run.identity.startswith(f"{second.pid}@"), "the new worker ran the approved command"
