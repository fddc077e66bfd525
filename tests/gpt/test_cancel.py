"""Cancel a running GPT workflow from the API or from the temporal CLI: the same thing happens.
The running step's activity sees the cancellation (heartbeat) and the workflow reads cancelled."""

import asyncio
import subprocess

from temporalio.api.enums.v1 import EventType

from tests.gpt.helpers import chat, create, steps_of, wait_for
from tests.support.stack import isolated_stack
from worker.devserver import temporal_binary

SLOW = {"llm_offline_latency_ms": 60_000}  # every chat would take a minute
DEFINITION = {
    "name": "Long haul",
    "steps": [
        chat("first", "Wanderweave", "a long story"),
        chat("second", "Shield Core", "{{steps.first.output}}", waitFor=["first"]),
    ],
}


async def start_and_wait_until_running(http) -> str:
    workflow_id = await create(http, DEFINITION)
    resp = await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
    assert resp.status_code == 202
    await wait_for(http, workflow_id, lambda s: steps_of(s)["first"]["state"] == "running")
    await asyncio.sleep(1.5)  # let the activity start and heartbeat at least once
    return workflow_id


async def assert_cancelled_everywhere(http, client, workflow_id: str, cancelled_at: float) -> None:
    status = await wait_for(http, workflow_id, lambda s: s["state"] == "cancelled", timeout=20)
    steps = steps_of(status)
    assert steps["first"]["state"] == "cancelled"
    assert steps["second"]["state"] == "not_run"
    job = await http.get(f"/jobs/{workflow_id}")
    assert job.json()["status"] == "cancelled"
    # The activity itself acknowledged: Temporal recorded ActivityTaskCanceled, well before its minute was up.
    events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
    assert any(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED for e in events)
    assert asyncio.get_running_loop().time() - cancelled_at < 15


async def test_cancel_from_the_api(client, settings):
    async with isolated_stack(client, settings, **SLOW) as (http, _):
        workflow_id = await start_and_wait_until_running(http)

        resp = await http.post(f"/api/gpt-workflows/{workflow_id}/cancel")
        assert resp.status_code == 202

        await assert_cancelled_everywhere(http, client, workflow_id, asyncio.get_running_loop().time())
        again = await http.post(f"/api/gpt-workflows/{workflow_id}/cancel")
        assert again.status_code == 409


async def test_cancel_from_the_temporal_cli_behaves_the_same(client, settings):
    async with isolated_stack(client, settings, **SLOW) as (http, local):
        workflow_id = await start_and_wait_until_running(http)

        cli = subprocess.run(
            [temporal_binary(), "workflow", "cancel", "--workflow-id", workflow_id,
             "--address", local.temporal_address, "--namespace", local.temporal_namespace],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr

        await assert_cancelled_everywhere(http, client, workflow_id, asyncio.get_running_loop().time())


async def test_a_created_workflow_can_be_cancelled_before_it_runs(api):
    workflow_id = await create(api, DEFINITION)
    assert (await api.post(f"/api/gpt-workflows/{workflow_id}/cancel")).status_code == 202
    status = await wait_for(api, workflow_id, lambda s: s["state"] == "cancelled")
    assert {s["state"] for s in status["steps"]} == {"not_run"}
    late = await api.post(f"/api/gpt-workflows/{workflow_id}/execute")
    assert late.status_code == 409
