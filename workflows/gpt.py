"""GptWorkflow: a multi-step workflow across GPT agents and intents (the seed's GPTOrchestrator), durable.

Lifecycle: started by `create` in the `created` state (the definition is now stored in Temporal),
waits for the `execute` update, then runs the DAG: sequentially, or every step as soon as its waitFor
steps are done. `status` (query) shows every step. Cancelling the workflow (API or `temporal workflow
cancel`) cancels the running step activities, which see it through their heartbeats.

`progress` (query) is the run's event log (workflows/progress.py): every step's transitions, the
approvals its steps' own jobs wait for (they signal `step_approval`), and each chat's usage. Steps with
`remember` store their output as a memory. Usage is rolled up per step, per agent and for the run.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from intents import remember
    from intents.usage import Usage, total
    from workflows import details, steps
    from workflows import search_attributes as sa
    from workflows.dag import CHAT_ACTIONS, DagRun, GptStep, GptWorkflowDefinition, StepRecord, StepState, chat_text
    from workflows.failures import DATA_ERRORS
    from workflows.models import STEP_APPROVAL_SIGNAL, StepApprovalNote
    from workflows.progress import (
        EventType,
        ProgressLog,
        ProgressPage,
        ProgressQuery,
        StepPhase,
        excerpt,
    )  # fmt: skip

# How a step's record state reads in the progress log.
PHASE_BY_STATE = {
    StepState.RUNNING: StepPhase.STARTED,
    StepState.SUCCEEDED: StepPhase.SUCCEEDED,
    StepState.FAILED: StepPhase.FAILED,
    StepState.SKIPPED: StepPhase.SKIPPED,
    StepState.CANCELLED: StepPhase.CANCELLED,
    StepState.NOT_RUN: StepPhase.NOT_RUN,
}


class GptRunState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Only Temporal knows these (the run was stopped from outside); the gateway reads them from it.
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


class GptWorkflowInput(BaseModel):
    definition: GptWorkflowDefinition
    execute: bool = Field(default=False, description="Run at once instead of waiting for `execute`.")
    requested_by: str | None = Field(default=None, description="Principal that created it; shown on its approvals.")


class GptWorkflowStatus(BaseModel):
    workflow_id: str
    name: str
    description: str = ""
    parallel: bool
    fail_fast: bool
    state: GptRunState
    steps: list[StepRecord]
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    progress: str = ""
    usage: Usage = Field(default_factory=Usage, description="All steps' tokens and cost.")
    usage_by_agent: dict[str, Usage] = Field(default_factory=dict, description="Per agent.")


@workflow.defn(name="GptWorkflow", failure_exception_types=DATA_ERRORS)
class GptWorkflow:
    @workflow.init
    def __init__(self, inp: GptWorkflowInput) -> None:
        # Built before the first task, so `status` answers even a query that arrives before run() starts.
        self._run = DagRun(inp.definition)
        self._state = GptRunState.CREATED
        self._execute = inp.execute
        self._requested_by = inp.requested_by
        self._created_at = workflow.now()
        self._started_at: datetime | None = None
        self._ended_at: datetime | None = None
        self._log = ProgressLog()
        self._logged: dict[str, StepState] = {}

    @workflow.run
    async def run(self, inp: GptWorkflowInput) -> GptWorkflowStatus:
        agents = sorted({s.gpt for s in inp.definition.steps if s.gpt})
        workflow.upsert_search_attributes(
            [sa.GPT_WORKFLOW_NAME.value_set(inp.definition.name[:200]), sa.AGENT.value_set(agents)]
        )
        try:
            if not self._execute:
                workflow.set_current_details(f"created; waiting for execute ({len(inp.definition.steps)} steps)")
                await workflow.wait_condition(lambda: self._execute)
            self._set_state(GptRunState.RUNNING)
            self._started_at = workflow.now()
            await self._drive()
        except asyncio.CancelledError:
            self._ended_at = workflow.now()
            if self._started_at is None:
                self._run.abort(self._ended_at, reason="cancelled before it was executed")
            self._sync_log()
            self._set_state(GptRunState.CANCELLED)
            workflow.set_current_details("cancelled")
            raise
        except details.CLOSING as err:  # bad data met by the run itself: it fails, and says so
            # No memo upsert here (a command): runs that failed this way before replay unchanged.
            self._ended_at, self._state = workflow.now(), GptRunState.FAILED
            details.ended_by(err)
            raise
        self._ended_at = workflow.now()
        if self._run.status.value == "failed":
            self._set_state(GptRunState.FAILED)
            failed = [r for r in self._run.records.values() if r.state in (StepState.FAILED, StepState.CANCELLED)]
            first = failed[0]
            workflow.set_current_details(f"failed: StepFailed (step {first.step_id!r} {first.state})")
            raise ApplicationError(
                f"step {first.step_id!r} {first.state}: {first.error or first.reason or ''}".strip(),
                self.status().model_dump(mode="json"),
                type="StepFailed",
                non_retryable=True,
            )
        self._set_state(GptRunState.SUCCEEDED)
        used = self._usage()
        tokens = f"; {used.short()}" if used.total_tokens else ""
        details.succeeded(self._started_at or self._created_at, f" ({len(self._run.records)} steps{tokens})")
        return self.status()

    async def _drive(self) -> None:
        run = self._run
        tasks: dict[str, asyncio.Task] = {}
        try:
            while True:
                for ready in run.advance(workflow.now()):
                    tasks[ready.step.step_id] = asyncio.create_task(self._step(ready.step, ready.params))
                for step_id in run.steps_to_cancel():
                    tasks[step_id].cancel()
                self._progress()
                if run.finished or not tasks:
                    return
                done, _ = await workflow.wait(list(tasks.values()), return_when=asyncio.FIRST_COMPLETED)
                for step_id in [sid for sid, t in tasks.items() if t in done]:
                    self._settle(step_id, tasks.pop(step_id))
        except asyncio.CancelledError:
            for step_id in run.abort(workflow.now()):
                tasks[step_id].cancel()
            # Wait for every running step to acknowledge; their records become `cancelled`.
            for step_id, task in list(tasks.items()):
                await workflow.wait([task])
                self._settle(step_id, task)
            self._sync_log()
            raise

    def _settle(self, step_id: str, task: asyncio.Task) -> None:
        self._settle_run(step_id, task)
        self._sync_log()
        record = self._run.records[step_id]
        if record.state == StepState.SUCCEEDED and record.usage is not None:
            self._log.add(EventType.USAGE, workflow.now(), {
                "step_id": step_id, "agent": record.gpt, "step": record.usage.model_dump(mode="json"),
                "total": self._usage().model_dump(mode="json"),
            })  # fmt: skip

    def _settle_run(self, step_id: str, task: asyncio.Task) -> None:
        now = workflow.now()
        try:
            self._run.succeeded(step_id, task.result(), now)
        except asyncio.CancelledError:
            self._run.cancelled(step_id, now, reason="cancelled while running")
        except (ActivityError, ChildWorkflowError) as err:
            if is_cancelled_exception(err):
                self._run.cancelled(step_id, now, reason="cancelled while running")
            else:
                cause = err.cause
                error_type = getattr(cause, "type", None) or type(cause).__name__
                message = getattr(cause, "message", None) or str(cause or err)
                self._run.failed(step_id, message, error_type, now)
        except ApplicationError as err:  # refused by the workflow itself (rendered params invalid)
            self._run.failed(step_id, err.message, err.type, now)
        except DATA_ERRORS as err:  # bad data met while starting the step: that step fails, typed
            self._run.failed(step_id, f"{type(err).__name__}: {err}"[:2000], type(err).__name__, now)

    async def _step(self, step: GptStep, params: dict[str, Any]) -> Any:
        if step.action in CHAT_ACTIONS:
            assert step.gpt is not None  # validated at create: chat steps name their agent
            result = await steps.chat(
                step.gpt,
                chat_text(step.action, params),
                step_id=step.step_id,
                with_memory=step.action == "query",
                memory_tags=self._recall_tags(params),
                timeout_s=step.timeout,
                retry=step.retry,
            )
            self._run.records[step.step_id].usage = result.usage
            output: Any = result.content
        else:
            steps.validate_step_params(step.action, params, where=f"steps.{step.step_id}.params")  # typed step failure
            job_id = steps.gated_job_id(step.action, step.step_id)
            if job_id is not None:
                self._run.record_job(step.step_id, job_id)
            output = await steps.run_intent(
                step.action,
                params,
                label=step.step_id,
                timeout_s=step.timeout,
                retry=step.retry,
                requested_by=self._requested_by,
            )
        if step.remember if step.remember is not None else self._run.definition.remember:
            await self._remember(step, output)
        return output

    def _recall_tags(self, params: dict[str, Any]) -> list[str] | None:
        """A query step's memory filter: its `tags`, and the tags its `recall_from` stands for."""
        tags = list(params.get("tags") or [])
        if isinstance(params.get("recall_from"), str):
            tags += remember.recall_tags(params["recall_from"], workflow.info().workflow_id)
        return list(dict.fromkeys(tags)) or None

    async def _remember(self, step: GptStep, output: Any) -> None:
        """Store a succeeded step's output as a memory, once per step (the id comes from workflow id + step)."""
        text = remember.memory_text(output)
        if text is None:
            return
        tags = [remember.workflow_tag(workflow.info().workflow_id), remember.step_tag(step.step_id)]
        tags += [remember.agent_tag(step.gpt)] if step.gpt else []
        record = self._run.records[step.step_id]
        try:
            written = await steps.run_intent("memory.write", {"text": text, "tags": tags}, label=remember.activity_id(step.step_id),
                                             activity_id=remember.activity_id(step.step_id))  # fmt: skip
            record.memory_id = written.get("id") if isinstance(written, dict) else None
        except (ActivityError, ChildWorkflowError) as err:
            if is_cancelled_exception(err):
                raise
            # The step did its work: it stays succeeded, and says its output was not remembered.
            record.memory_error = getattr(err.cause, "message", None) or str(err.cause or err)

    def _usage(self) -> Usage:
        return total(r.usage for r in self._run.records.values())

    def _sync_log(self) -> None:
        """Log every step whose state changed since the last call, in definition order."""
        now = workflow.now()
        for sid, record in self._run.records.items():
            if self._logged.get(sid, StepState.PENDING) == record.state or record.state not in PHASE_BY_STATE:
                continue
            self._logged[sid] = record.state
            self._log.add(EventType.STEP, now, {
                "step_id": sid, "action": record.action, "agent": record.gpt, "state": PHASE_BY_STATE[record.state],
                "job_id": record.job_id, "reason": record.reason, "error": excerpt(record.error), "error_type": record.error_type,
                "output_excerpt": excerpt(record.output) if record.state == StepState.SUCCEEDED else None,
            })  # fmt: skip

    def _set_state(self, state: GptRunState) -> None:
        self._state = state
        workflow.upsert_memo({"state": str(state)})

    def _progress(self) -> None:
        self._sync_log()
        records = list(self._run.records.values())
        done = sum(r.state in (StepState.SUCCEEDED, StepState.SKIPPED) for r in records)
        running = [r.step_id for r in records if r.state == StepState.RUNNING]
        text = f"{done}/{len(records)} steps done"
        if running:
            text += ", running " + ", ".join(running[:5])
        workflow.set_current_details(text)

    @workflow.update(name="execute")
    async def execute(self) -> GptWorkflowStatus:
        self._execute = True
        return self.status()

    @execute.validator
    def _validate_execute(self) -> None:
        if self._execute:
            raise ValueError(f"this workflow was already executed (state: {self._state})")

    @workflow.signal(name=STEP_APPROVAL_SIGNAL)
    def step_approval(self, note: StepApprovalNote) -> None:
        """A step's own job waits for a human, or got a decision (sent by that IntentWorkflow)."""
        step_id = next((sid for sid, r in self._run.records.items() if r.job_id == note.job_id), None)
        self._log.add(EventType.APPROVAL, workflow.now(), {
            "step_id": step_id, "job_id": note.job_id, "state": note.state, "request": note.request, "decision": note.decision,
        })  # fmt: skip

    @workflow.query(name="progress")
    def progress(self, query: ProgressQuery) -> ProgressPage:
        return self._log.page(query, self.status().model_dump(mode="json") if query.with_state else None)

    @workflow.query(name="status")
    def status(self) -> GptWorkflowStatus:
        defn = self._run.definition
        records = self._run.snapshot()
        done = sum(r.state in (StepState.SUCCEEDED, StepState.SKIPPED) for r in records)
        by_agent: dict[str, Usage] = {}
        for r in records:
            if r.gpt and r.usage is not None:
                by_agent[r.gpt] = by_agent.get(r.gpt, Usage()).plus(r.usage)
        return GptWorkflowStatus(
            workflow_id=workflow.info().workflow_id,
            name=defn.name,
            description=defn.description,
            parallel=defn.parallel,
            fail_fast=defn.fail_fast,
            state=self._state,
            steps=records,
            created_at=self._created_at,
            started_at=self._started_at,
            ended_at=self._ended_at,
            progress=f"{done}/{len(records)} steps done",
            usage=total(r.usage for r in records),
            usage_by_agent=by_agent,
        )
