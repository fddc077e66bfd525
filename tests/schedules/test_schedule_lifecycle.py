"""A schedule every 2 s: it runs (each run an ordinary job), then pause, trigger and delete."""

from __future__ import annotations

import asyncio
import subprocess

from tests.schedules.conftest import create, finished, wait_for
from worker.devserver import temporal_binary


async def test_a_schedule_every_2s_runs_twice_then_pauses_triggers_and_deletes(
    sched_api, made, client, settings, unique
):
    view = await create(sched_api, made, {
        "schedule_id": f"every2-{unique}", "intent": "memory.write", "inputs": {"text": f"tick {unique}"}, "every": "2s",
        "note": "test tick",
    })  # fmt: skip
    schedule_id = view["schedule_id"]
    assert (view["intent"], view["mode"], view["every"], view["overlap"], view["paused"]) == (
        "memory.write",
        "agent",
        "2s",
        "skip",
        False,
    )
    assert len(view["next_run_times"]) == 5 and view["requested_by"] == "api-key"

    # It runs at least twice; each run is a job whose id is the schedule's prefix + its scheduled time.
    view = await wait_for(sched_api, schedule_id, lambda v: len(finished(v)) >= 2, what="two finished runs")
    run = finished(view)[0]
    assert run["job_id"].startswith(f"sched-{schedule_id}-") and run["job_id"].endswith("Z")
    job = (await sched_api.get(f"/jobs/{run['job_id']}")).json()
    assert (job["status"], job["intent"], job["mode"], job["schedule_id"]) == (
        "success",
        "memory.write",
        "agent",
        schedule_id,
    )
    assert job["result"]["id"].startswith("mem-")

    # Runs are found in job search by their Schedule and Intent search attributes, with a summary.
    query = f"Schedule = '{schedule_id}' AND Intent = 'memory.write'"
    for _ in range(40):
        listed = [w async for w in client.list_workflows(query)]
        if len(listed) >= 2:
            break
        await asyncio.sleep(0.25)
    assert len(listed) >= 2
    described = await client.get_workflow_handle(run["job_id"]).describe()
    assert f"(schedule {schedule_id})" in (await described.static_summary() or "")

    # Temporal's own CLI shows it.
    out = subprocess.run(
        [temporal_binary(), "schedule", "list", "--address", settings.temporal_address, "--namespace", "default"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert schedule_id in out

    # Paused: no new run starts.
    paused = await sched_api.post(f"/schedules/{schedule_id}/pause")
    assert paused.status_code == 200 and paused.json()["paused"] is True, paused.text
    await asyncio.sleep(1)  # a run due right at the pause may still start
    before = (await sched_api.get(f"/schedules/{schedule_id}")).json()["runs"]
    await asyncio.sleep(4.5)
    assert (await sched_api.get(f"/schedules/{schedule_id}")).json()["runs"] == before

    # Trigger runs it once now, paused or not, and says which job that is.
    triggered = await sched_api.post(f"/schedules/{schedule_id}/trigger")
    assert triggered.status_code == 202, triggered.text
    job_id = triggered.json()["job_id"]
    assert job_id and job_id.startswith(f"sched-{schedule_id}-")
    view = await wait_for(sched_api, schedule_id, lambda v: any(r["job_id"] == job_id and r["status"] == "success" for r in v["recent_runs"]),
                          what="the triggered run")  # fmt: skip
    assert view["runs"] == before + 1

    # Deleted: the schedule is gone (404, the id not echoed); its runs stay readable jobs.
    deleted = await sched_api.delete(f"/schedules/{schedule_id}")
    assert deleted.status_code == 200 and deleted.json() == {"status": "deleted", "schedule_id": schedule_id}
    gone = await sched_api.get(f"/schedules/{schedule_id}")
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "NotFound" and schedule_id not in gone.text
    assert (await sched_api.get(f"/jobs/{job_id}")).json()["status"] == "success"


async def test_the_same_request_twice_is_one_schedule_and_another_under_its_id_is_a_conflict(sched_api, made, unique):
    body = {
        "intent": "memory.search",
        "inputs": {"query": f"q {unique}"},
        "cron": "0 8 * * 1-5",
        "timezone": "Europe/Paris",
        "paused": True,
    }
    first = await create(sched_api, made, body)

    again = await sched_api.post("/schedules", json=body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["schedule_id"] == first["schedule_id"]

    other = await sched_api.post(
        "/schedules", json={**body, "schedule_id": first["schedule_id"], "cron": "0 9 * * 1-5"}
    )
    assert other.status_code == 409 and other.json()["error"] | {"message": ""} == {
        "type": "ScheduleExists",
        "field": "schedule_id",
        "message": "",
    }


async def test_list_and_patch(sched_api, made, unique):
    view = await create(sched_api, made, {"schedule_id": f"patch-{unique}", "intent": "memory.search", "inputs": {"query": "x"},
                                          "cron": "0 8 * * *", "paused": True})  # fmt: skip
    listed = (await sched_api.get("/schedules")).json()["schedules"]
    assert view["schedule_id"] in {s["schedule_id"] for s in listed}

    patched = await sched_api.patch(
        f"/schedules/{view['schedule_id']}", json={"every": "1h", "inputs": {"query": "y"}, "timezone": "Asia/Tokyo"}
    )
    assert patched.status_code == 200, patched.text
    got = patched.json()
    assert ("cron" in got, got["every"], got["timezone"], got["inputs"]["query"], got["paused"]) == (
        False,
        "1h",
        "Asia/Tokyo",
        "y",
        True,
    )

    bad = await sched_api.patch(f"/schedules/{view['schedule_id']}", json={"timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "timezone"
