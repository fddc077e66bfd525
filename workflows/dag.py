"""The GPT workflow runner: the step state machine over a validated definition (`intents.gpt_definitions`).

Pure and deterministic (no I/O, no clock, no set iteration) so workflow code can import it through
`imports_passed_through()`. Agent and intent existence checks are injected as callables.

Step semantics, as `DagRun` applies them:
- A step is considered once every step in its `waitFor` has finished.
- If one of them failed, was cancelled or did not run, the step is `not_run`.
- If one of them was skipped, the step is `skipped` too, unless it sets `runIfSkipped: true`.
- Otherwise its `condition` (if any) is evaluated over earlier results; false -> `skipped`.
- `parallel: false` runs one step at a time in `topological_order`; `parallel: true` starts every
  step as soon as it is ready.
- `fail_fast: true`: the first failure marks every pending step `not_run` and asks the caller to
  cancel the running ones (they end `cancelled`). `fail_fast: false`: only the failed step's
  dependents are `not_run`; everything else still runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from intents.approval import ApprovalRequest
from intents.expressions import ExpressionError, evaluate, is_true, render
from intents.gpt_definitions import (
    CHAT_ACTIONS,
    DefinitionError,
    GptStep,
    GptWorkflowDefinition,
    chat_text,
    topological_order,
    validate_definition,
)
from intents.usage import Usage

__all__ = ["CHAT_ACTIONS", "DagRun", "DefinitionError", "GptStep", "GptWorkflowDefinition", "ReadyStep", "RunStatus",
           "StepRecord", "StepState", "chat_text", "topological_order", "validate_definition"]  # fmt: skip


# --- the run's state machine --------------------------------------------------------------


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    NOT_RUN = "not_run"
    # Never set by the run: the gateway shows a running step this way while its job waits for a human.
    AWAITING_APPROVAL = "awaiting_approval"


FINISHED_STATES = (StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED, StepState.NOT_RUN)
BLOCKING_STATES = (StepState.FAILED, StepState.CANCELLED, StepState.NOT_RUN)


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepRecord(BaseModel):
    """What the status query shows for one step."""

    step_id: str
    gpt: str | None = None
    action: str
    wait_for: list[str] = Field(default_factory=list, description="The steps it waits for: the DAG's edges.")
    state: StepState = StepState.PENDING
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output: Any = None
    error: str | None = None
    error_type: str | None = None
    reason: str | None = Field(default=None, description="Why it was skipped or not run.")
    job_id: str | None = Field(
        default=None, description="The step's own job (a child IntentWorkflow), for steps that may await approval."
    )
    approval: ApprovalRequest | None = Field(
        default=None, description="While the step awaits approval: what POST /jobs/{job_id}/approve decides."
    )
    usage: Usage | None = Field(default=None, description="Tokens and cost of its LLM call.")
    memory_id: str | None = Field(default=None, description="remember: its memory.")
    memory_error: str | None = Field(default=None, description="remember: why it was not stored.")


@dataclass(frozen=True)
class ReadyStep:
    """A step the caller must start now, with its templates already rendered."""

    step: GptStep
    params: dict[str, Any]


class DagRun:
    """Which steps to start, skip or give up on, given what has happened so far.

    The caller (the workflow) reports every transition with a timestamp from `workflow.now()`:
    `advance` -> start the returned steps; `succeeded` / `failed` / `cancelled` as they end;
    `steps_to_cancel` after each report; `abort` when the whole run is cancelled.
    """

    def __init__(self, defn: GptWorkflowDefinition):
        self.definition = defn
        self._steps = {s.step_id: s for s in defn.steps}
        self._order = topological_order(defn)
        self.records = {
            s.step_id: StepRecord(step_id=s.step_id, gpt=s.gpt, action=s.action, wait_for=list(s.wait_for))
            for s in defn.steps
        }
        self._aborting = False
        self._cancelled_by_caller = False
        self._cancel_sent: list[str] = []

    # --- queries ------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return all(r.state in FINISHED_STATES for r in self.records.values())

    @property
    def status(self) -> RunStatus:
        if not self.finished:
            return RunStatus.RUNNING
        if self._cancelled_by_caller:
            return RunStatus.CANCELLED
        if any(r.state in (StepState.FAILED, StepState.CANCELLED) for r in self.records.values()):
            return RunStatus.FAILED
        return RunStatus.SUCCEEDED

    def running(self) -> list[str]:
        return [sid for sid, r in self.records.items() if r.state == StepState.RUNNING]

    def context(self) -> dict[str, Any]:
        """What conditions and templates read: {"steps": {id: {status, output, error}}}."""
        return {
            "steps": {
                sid: {"status": str(r.state), "output": r.output, "error": r.error} for sid, r in self.records.items()
            }
        }

    def snapshot(self) -> list[StepRecord]:
        return [r.model_copy(deep=True) for r in self.records.values()]

    # --- transitions --------------------------------------------------------------------

    def advance(self, now: datetime) -> list[ReadyStep]:
        """Settle every step that can be settled; return those to start now (marked running)."""
        started: list[ReadyStep] = []
        for sid in self._order:
            if self._aborting:
                break
            record = self.records[sid]
            if record.state != StepState.PENDING:
                continue
            if not self.definition.parallel and (started or self.running()):
                break
            step = self._steps[sid]
            if any(self.records[d].state not in FINISHED_STATES for d in step.wait_for):
                continue
            ready = self._settle(step, now)
            if ready is not None:
                started.append(ready)
        if self._aborting:
            # A failure while settling (bad template, failing condition) aborted the run: steps picked
            # in this same pass never started, so they are simply not run rather than cancelled.
            for ready in started:
                self._finish(ready.step.step_id, StepState.NOT_RUN, now, reason="the run stopped before it started")
            started = []
        return started

    def _settle(self, step: GptStep, now: datetime) -> ReadyStep | None:
        sid = step.step_id
        for dep in step.wait_for:
            state = self.records[dep].state
            if state in BLOCKING_STATES:
                self._finish(sid, StepState.NOT_RUN, now, reason=f"waits for {dep!r}, which ended {state}")
                return None
        if not step.run_if_skipped:
            for dep in step.wait_for:
                if self.records[dep].state == StepState.SKIPPED:
                    self._finish(sid, StepState.SKIPPED, now, reason=f"waits for {dep!r}, which was skipped")
                    return None
        context = self.context()
        try:
            if step.condition is not None and not is_true(evaluate(step.condition, context)):
                self._finish(sid, StepState.SKIPPED, now, reason=f"condition is false: {step.condition}")
                return None
            params = render(step.params, context)
        except ExpressionError as exc:  # RenderedTooLarge included, with its own error_type
            self.records[sid].started_at = now
            self._fail(sid, now, str(exc), exc.error_type)
            return None
        record = self.records[sid]
        record.state, record.started_at = StepState.RUNNING, now
        return ReadyStep(step=step, params=params)

    def record_job(self, step_id: str, job_id: str) -> None:
        """The running step runs as its own job (approvable on its own id)."""
        self.records[step_id].job_id = job_id

    def succeeded(self, step_id: str, output: Any, now: datetime) -> None:
        self._expect_running(step_id)
        self.records[step_id].output = output
        self._finish(step_id, StepState.SUCCEEDED, now)

    def failed(self, step_id: str, error: str, error_type: str | None, now: datetime) -> None:
        self._expect_running(step_id)
        self._fail(step_id, now, error, error_type)

    def cancelled(self, step_id: str, now: datetime, reason: str | None = None) -> None:
        """A running step's activity ended cancelled. Outside an abort this counts as a failure."""
        self._expect_running(step_id)
        self._finish(step_id, StepState.CANCELLED, now, reason=reason)
        if not self._aborting and self.definition.fail_fast:
            self._stop(now, reason=f"step {step_id!r} was cancelled (fail_fast)")

    def abort(self, now: datetime, reason: str = "the workflow was cancelled") -> list[str]:
        """The whole run is cancelled: nothing new starts; returns the running steps to cancel."""
        self._cancelled_by_caller = True
        self._stop(now, reason=reason)
        return self.steps_to_cancel()

    def steps_to_cancel(self) -> list[str]:
        """Running steps the caller must cancel now (each returned once)."""
        if not self._aborting:
            return []
        fresh = [sid for sid in self.running() if sid not in self._cancel_sent]
        self._cancel_sent += fresh
        return fresh

    # --- internals ----------------------------------------------------------------------

    def _fail(self, step_id: str, now: datetime, error: str, error_type: str | None) -> None:
        record = self.records[step_id]
        record.error, record.error_type = error, error_type
        self._finish(step_id, StepState.FAILED, now)
        if self.definition.fail_fast and not self._aborting:
            self._stop(now, reason=f"step {step_id!r} failed (fail_fast)")

    def _stop(self, now: datetime, *, reason: str) -> None:
        self._aborting = True
        for sid, record in self.records.items():
            if record.state == StepState.PENDING:
                self._finish(sid, StepState.NOT_RUN, now, reason=reason)

    def _finish(self, step_id: str, state: StepState, now: datetime, *, reason: str | None = None) -> None:
        record = self.records[step_id]
        record.state, record.ended_at = state, now
        if reason is not None:
            record.reason = reason

    def _expect_running(self, step_id: str) -> None:
        state = self.records[step_id].state
        if state != StepState.RUNNING:
            raise ValueError(f"step {step_id!r} is {state}, not running")
