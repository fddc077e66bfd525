"""Cancel always ends a job, and a run started with bad data around the gateway fails typed instead
of retrying its workflow task forever.

A stuck run is made the honest way: a workflow whose code raises something that is not a data error
(a bug), so Temporal retries its workflow task and the run can never take a cancellation itself."""

import asyncio
import uuid

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from tests.wedge.corpus import defn, nested, step


@workflow.defn(name="GptWorkflow", sandboxed=False)
class BuggyGptWorkflow:
    @workflow.run
    async def run(self, inp: dict) -> None:
        raise RuntimeError("a bug in workflow code, not bad data")


@workflow.defn(name="IntentWorkflow", sandboxed=False)
class BuggyIntentWorkflow:
    @workflow.run
    async def run(self, inp: dict) -> None:
        raise RuntimeError("a bug in workflow code, not bad data")


async def _ends_terminated(client, workflow_id: str, within: float) -> float:
    started = asyncio.get_running_loop().time()
    while True:
        desc = await client.get_workflow_handle(workflow_id).describe()
        if desc.status != WorkflowExecutionStatus.RUNNING:
            assert desc.status == WorkflowExecutionStatus.TERMINATED, desc.status
            return asyncio.get_running_loop().time() - started
        assert asyncio.get_running_loop().time() - started < within, "still open"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("workflow_class", "cancel_path"),
    [(BuggyIntentWorkflow, "/jobs/{id}/cancel"), (BuggyGptWorkflow, "/api/gpt-workflows/{id}/cancel")],
)
async def test_cancelling_a_run_whose_workflow_task_keeps_failing_terminates_it_with_a_reason(
    api, client, workflow_class, cancel_path
):
    queue, workflow_id = f"stuck-{uuid.uuid4().hex[:8]}", f"stuck-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[workflow_class]):
        await client.start_workflow(workflow_class.run, {}, id=workflow_id, task_queue=queue)
        await asyncio.sleep(2)  # a few failed workflow task attempts
        resp = await api.post(cancel_path.format(id=workflow_id))
        assert resp.status_code in (200, 202), resp.text
        seconds = await _ends_terminated(client, workflow_id, within=12)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    reason = history.events[-1].workflow_execution_terminated_event_attributes.reason
    assert "cancel requested" in reason and seconds < 12
    job = await api.get(f"/jobs/{workflow_id}")
    assert job.json()["status"] == "terminated"


async def test_a_definition_started_around_the_gateway_with_deep_params_fails_typed(client, settings, worker):
    definition = defn(step("w", "memory.write", {"text": "t", "x": nested(100)}))
    handle = await client.start_workflow(
        "GptWorkflow",
        {"definition": definition, "execute": True},
        id=f"bypass-{uuid.uuid4().hex}",
        task_queue=settings.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), timeout=20)
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type in ("ValidationError", "ValueError", "RecursionError")


async def test_execute_on_an_open_run_that_cannot_take_it_is_never_409_closed(api, client):
    queue, workflow_id = f"stuck-{uuid.uuid4().hex[:8]}", f"gptwf-stuck-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[BuggyGptWorkflow]):
        await client.start_workflow(BuggyGptWorkflow.run, {}, id=workflow_id, task_queue=queue)
        await asyncio.sleep(1)
        started = asyncio.get_running_loop().time()
        resp = await api.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
        assert asyncio.get_running_loop().time() - started < 15
        assert resp.status_code == 503 and resp.json()["error"]["type"] == "WorkflowUnresponsive", resp.text
        await client.get_workflow_handle(workflow_id).terminate(reason="test over")
