"""A host inside a private network is reached only by the zone worker running there (`worker --zone NAME`)."""

from __future__ import annotations

import asyncio

from tests.ssh.e2e.conftest import activity_runs, eventually
from tests.support.processes import start_worker, stop
from tests.support.stack import poll_job


async def test_a_zoned_hosts_command_waits_for_and_runs_on_its_zone_worker(ssh_stack, client, hosts_file, zone):
    async with ssh_stack() as (http, local):
        resp = await http.post(
            "/orchestrate",
            json={"intent": "ssh.exec.peek", "inputs": {"host": "web-1-zoned", "command": "uptime"}, "async": True},
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]

        # The default worker ran the preflight, which routed the command to the zone's queue...
        async def queued():
            return [run for run in await activity_runs(client, job_id, "ssh.exec.peek") if run.task_queue == zone]

        await eventually(queued)
        # ...where it waits: the default worker does not serve that queue.
        await asyncio.sleep(1)
        assert (await http.get(f"/jobs/{job_id}")).json()["status"] == "running"
        assert (await activity_runs(client, job_id, "ssh.exec.peek"))[0].attempt == 0

        zone_worker = start_worker(local, "--zone", zone, SSH_HOSTS_FILE=str(hosts_file))
        try:
            job = await poll_job(http, job_id, timeout=60)
        finally:
            stop(zone_worker)

    assert job["status"] == "success", job
    assert job["result"]["host"] == "web-1-zoned" and "load average" in job["result"]["stdout"]
    [run] = await activity_runs(client, job_id, "ssh.exec.peek")
    assert run.task_queue == zone and run.identity.startswith(f"{zone_worker.pid}@")
    [preflight] = await activity_runs(client, job_id, "ssh.preflight")
    assert preflight.task_queue == local.task_queue
