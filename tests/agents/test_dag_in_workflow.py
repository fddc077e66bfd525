"""The DAG module runs inside Temporal's workflow sandbox (passed through), with workflow.now() times."""

from __future__ import annotations

import uuid

from temporalio import workflow
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from workflows.dag import DagRun, GptWorkflowDefinition, StepRecord


@workflow.defn
class EchoDagWorkflow:
    """Each step 'runs' instantly, its output being its rendered message: enough to drive DagRun."""

    @workflow.run
    async def run(self, defn: GptWorkflowDefinition) -> list[StepRecord]:
        run = DagRun(defn)
        while not run.finished:
            for ready in run.advance(workflow.now()):
                run.succeeded(ready.step.step_id, ready.params["message"], workflow.now())
        return run.snapshot()


async def test_a_definition_runs_through_the_sandboxed_workflow(client):
    defn = GptWorkflowDefinition.model_validate(
        {
            "name": "Relay",
            "parallel": True,
            "steps": [
                {"stepId": "a", "gpt": "Wanderweave", "action": "message", "params": {"message": "Paris"}},
                {
                    "stepId": "b",
                    "gpt": "Shield Core",
                    "action": "message",
                    "params": {"message": "after {{steps.a.output}}"},
                    "waitFor": ["a"],
                    "condition": "steps.a.status == 'succeeded'",
                },
            ],
        }
    )
    queue = f"dag-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[EchoDagWorkflow]):
        records = await client.execute_workflow(
            EchoDagWorkflow.run, defn, id=f"dag-{uuid.uuid4().hex[:8]}", task_queue=queue, result_type=list[StepRecord]
        )
    assert [(r.step_id, r.state, r.output) for r in records] == [
        ("a", "succeeded", "Paris"),
        ("b", "succeeded", "after Paris"),
    ]
    assert records[1].started_at is not None and records[1].started_at.tzinfo is not None
