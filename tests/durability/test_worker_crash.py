"""Durability is the product: kill the worker mid-job and a fresh worker finishes the job."""

import asyncio
from pathlib import Path

from gateway.app import create_app
from tests.support import slow_intent  # noqa: F401 - registers test.slow in this process too
from tests.support.gateway import LiveServer, api_client
from tests.support.processes import crash, start_worker, stop
from tests.support.stack import poll_job


async def wait_for_line(path: Path, text: str, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if path.exists() and text in path.read_text():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


async def test_a_job_survives_its_worker_being_killed(client, settings, tmp_path, unique):
    local = settings.model_copy(
        update={"task_queue": f"crash-{unique}", "extra_intent_modules": ["tests.support.slow_intent"]}
    )
    marker = tmp_path / "attempts.log"
    first = start_worker(local)
    second = None
    try:
        async with LiveServer(create_app(local, client=client)) as server, api_client(server.url) as http:
            resp = await http.post(
                "/orchestrate",
                json={"intent": "test.slow", "inputs": {"seconds": 1.5, "marker": str(marker)}, "async": True},
            )
            assert resp.status_code == 202
            job_id = resp.json()["job_id"]

            await wait_for_line(marker, "start")  # the first worker is mid-activity...
            crash(first)  # ...and dies without a word
            second = start_worker(local)

            job = await poll_job(http, job_id, timeout=60)
    finally:
        stop(first)
        if second:
            stop(second)

    assert job["status"] == "success"
    assert job["result"]["attempt"] == 2
    assert job["result"]["pid"] == second.pid
    lines = marker.read_text().splitlines()
    assert lines[0] == f"start pid={first.pid} attempt=1"
    assert lines[-1] == f"done pid={second.pid} attempt=2"
