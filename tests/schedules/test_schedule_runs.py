"""What a scheduled run is: one job at a time with overlap skip, the creator's identity, the schedule's
callback, backfills that never rerun a success, and a schedule that outlives its worker."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType

from gateway.app import create_app
from tests.callbacks.conftest import SECRET
from tests.schedules.conftest import create, finished, wait_for
from tests.support import slow_intent  # noqa: F401 - registers test.slow in this (gateway) process too
from tests.support.callback_receiver import CallbackReceiver
from tests.support.gateway import LiveServer, api_client
from tests.support.processes import crash, start_worker, stop
from tests.support.stack import isolated_stack
from workflows.models import IntentRequest

SLOW = {"extra_intent_modules": ["tests.support.slow_intent"]}


async def test_overlap_skip_runs_one_slow_job_at_a_time_and_counts_the_skipped(
    client, settings, made, tmp_path, unique
):
    marker = tmp_path / "runs.log"
    async with isolated_stack(client, settings, **SLOW) as (http, _):
        view = await create(http, made, {"schedule_id": f"slow-{unique}", "intent": "test.slow",
                                         "inputs": {"seconds": 5, "marker": str(marker)}, "every": "2s", "overlap": "skip"})  # fmt: skip
        view = await wait_for(http, view["schedule_id"], lambda v: len(finished(v)) >= 1 and v["skipped_overlap"] >= 2,
                              timeout=40, what="a finished slow run and skipped ones")  # fmt: skip
        await http.post(f"/schedules/{view['schedule_id']}/pause")

    # Temporal's own record of the runs: never two at once.
    runs = []
    async for listed in client.list_workflows(f"Schedule = 'slow-{unique}'"):
        desc = await client.get_workflow_handle(listed.id).describe()
        runs.append((desc.start_time, desc.close_time))
    runs.sort()
    assert len(runs) >= 1 and view["skipped_overlap"] >= 2
    for (_, closed), (next_start, _) in zip(runs, runs[1:], strict=False):
        assert closed is not None and closed <= next_start, runs


async def test_a_run_carries_its_creators_identity_and_calls_the_schedules_callback(client, settings, made, unique):
    with CallbackReceiver() as receiver:
        allowed = dict(callback_secret=SecretStr(SECRET), callback_allowlist=[f"127.0.0.1:{receiver.port}"])
        async with isolated_stack(client, settings, **allowed) as (http, _):
            view = await create(http, made, {"schedule_id": f"cb-{unique}", "intent": "memory.write", "inputs": {"text": f"cb {unique}"},
                                             "every": "2s", "callback_url": f"{receiver.url}/hooks/schedule"})  # fmt: skip
            view = await wait_for(http, view["schedule_id"], lambda v: bool(finished(v)), what="a finished run")
            await http.post(f"/schedules/{view['schedule_id']}/pause")
            job_id = finished(view)[0]["job_id"]
            for _ in range(100):
                if any(json.loads(r.body)["job_id"] == job_id for r in receiver.received):
                    break
                await asyncio.sleep(0.1)
    document = next(json.loads(r.body) for r in receiver.received if json.loads(r.body)["job_id"] == job_id)
    assert (document["status"], document["intent"]) == ("success", "memory.write")

    history = await client.get_workflow_handle(job_id).fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    (payload,) = started.workflow_execution_started_event_attributes.input.payloads
    (run,) = await client.data_converter.decode([payload], [IntentRequest])
    assert (run.requested_by, run.tenant, run.callback_url) == ("api-key", "default", f"{receiver.url}/hooks/schedule")


async def test_a_backfill_runs_the_missed_times_once_and_never_reruns_a_success(sched_api, made, client, unique):
    view = await create(sched_api, made, {"schedule_id": f"bf-{unique}", "intent": "memory.search", "inputs": {"query": unique},
                                          "cron": "* * * * *", "paused": True})  # fmt: skip
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    window = {"start_at": (end - timedelta(minutes=2)).isoformat(), "end_at": end.isoformat()}
    expected = {f"sched-bf-{unique}-{(end - timedelta(minutes=m)).strftime('%Y-%m-%dT%H:%M:%SZ')}" for m in range(3)}

    first = await sched_api.post(f"/schedules/{view['schedule_id']}/backfill", json=window)
    assert first.status_code == 202 and first.json()["skipped_job_ids"] == [], first.text
    view = await wait_for(
        sched_api,
        view["schedule_id"],
        lambda v: {r["job_id"] for r in finished(v)} >= expected,
        what="3 backfilled runs",
    )
    for _ in range(40):  # visibility catches up with the closed runs
        done = [w async for w in client.list_workflows(f"Schedule = 'bf-{unique}' AND ExecutionStatus = 'Completed'")]
        if len(done) >= 3:
            break
        await asyncio.sleep(0.25)

    again = await sched_api.post(f"/schedules/{view['schedule_id']}/backfill", json=window)
    assert again.status_code == 202 and set(again.json()["skipped_job_ids"]) == expected
    await asyncio.sleep(2)
    assert (await sched_api.get(f"/schedules/{view['schedule_id']}")).json()["runs"] == 3


async def test_a_schedule_survives_its_worker_being_killed(client, settings, made, tmp_path, unique):
    local = settings.model_copy(update={"task_queue": f"sched-crash-{unique}", **SLOW})
    marker = tmp_path / "runs.log"
    first = start_worker(local)
    second = None
    try:
        async with LiveServer(create_app(local, client=client)) as server, api_client(server.url) as http:
            view = await create(http, made, {"schedule_id": f"crash-{unique}", "intent": "test.slow",
                                             "inputs": {"seconds": 0.1, "marker": str(marker)}, "every": "2s"})  # fmt: skip
            await wait_for(http, view["schedule_id"], lambda v: bool(finished(v)), what="a run on the first worker")
            crash(first)
            await asyncio.sleep(3)  # runs fall due with no worker: they wait in Temporal
            second = start_worker(local)
            view = await wait_for(http, view["schedule_id"], lambda _: f"done pid={second.pid}" in marker.read_text(),
                                  timeout=60, what="a run on the new worker")  # fmt: skip
            view = await wait_for(
                http, view["schedule_id"], lambda v: v["recent_runs"][0]["status"] in ("success", "running")
            )
            await http.post(f"/schedules/{view['schedule_id']}/pause")
    finally:
        stop(first)
        if second:
            stop(second)
    text = marker.read_text()
    assert f"done pid={first.pid}" in text and f"done pid={second.pid}" in text


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata"])
async def test_the_readme_digest_schedule_runs_weekdays_at_8_in_the_users_time_zone(api, made, unique, tz):
    from zoneinfo import ZoneInfo

    view = await create(api, made, {"schedule_id": f"digest-{unique}-{tz.split('/')[1].lower()}", "intent": "digest.daily",
                                    "cron": "0 8 * * 1-5", "timezone": tz})  # fmt: skip
    local = [datetime.fromisoformat(t).astimezone(ZoneInfo(tz)) for t in view["next_run_times"]]
    assert len(local) == 5 and all((t.hour, t.minute) == (8, 0) and t.weekday() < 5 for t in local), local
    assert view["inputs"] == {"since": "24h", "tags": []}
