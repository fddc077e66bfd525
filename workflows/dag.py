"""GPT workflow definitions: the model, create-time validation, run order and the step state machine.

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

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from intents.approval import ApprovalRequest
from intents.errors import ErrorType
from intents.limits import MAX_VALUE_BYTES, MAX_VALUE_DEPTH, check_value
from intents.spec import RequestRejected, RetrySpec
from workflows.expressions import ExpressionError, evaluate, is_true, referenced_steps, render, templates_in

# Chat actions (a turn with `gpt`); any other action names a registered intent.
CHAT_ACTIONS = ("message", "query")
# The param that carries the text of each chat action.
CHAT_TEXT_PARAM = {"message": "message", "query": "query"}
MAX_STEPS = 200
# error_type of a step whose condition or template failed to evaluate at run time.
EXPRESSION_ERROR = "ExpressionError"
STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
# A step's time limit, in seconds: at least 1 (a smaller one rounds to a zero timeout, which Temporal
# treats as "unset"/invalid), at most a day.
MIN_STEP_TIMEOUT_S = 1
MAX_STEP_TIMEOUT_S = 86_400


def _alias(camel: str, snake: str) -> dict[str, Any]:
    """JSON keeps the seed's camelCase; snake_case is accepted too."""
    return {"validation_alias": AliasChoices(camel, snake), "serialization_alias": camel}


class GptStep(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    step_id: str = Field(pattern=STEP_ID_PATTERN, description="Unique within the workflow.", **_alias("stepId", "step_id"))
    gpt: str | None = Field(default=None, max_length=80, description="Agent name, for message/query steps.")
    action: str = Field(
        min_length=1, max_length=100, description="`message`, `query` (chat with memory hits) or an intent name."
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Action inputs; string values may hold `{{steps.<id>.output}}` templates. "
        f"At most {MAX_VALUE_DEPTH} levels deep and {MAX_VALUE_BYTES} bytes of JSON.",
    )
    wait_for: list[str] = Field(
        default_factory=list, max_length=MAX_STEPS, description="Steps that must finish first.",
        **_alias("waitFor", "wait_for"),
    )
    condition: str | None = Field(
        default=None, max_length=2000, description="JMESPath over earlier results, e.g. `steps.scan.output.findings > 0`."
    )
    timeout: float | None = Field(
        default=None, ge=MIN_STEP_TIMEOUT_S, le=MAX_STEP_TIMEOUT_S, description="Seconds; the activity's start-to-close."
    )
    retry: RetrySpec | None = Field(default=None, description="Retry policy of the step's activity.")
    run_if_skipped: bool = Field(
        default=False, description="Run even if a waitFor step was skipped.", **_alias("runIfSkipped", "run_if_skipped")
    )

    @field_validator("params")
    @classmethod
    def _bounded(cls, params: dict[str, Any]) -> dict[str, Any]:
        return check_value(params)


class GptWorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    parallel: bool = Field(default=False, description="true: a DAG, each step starts when its waitFor are done.")
    fail_fast: bool = Field(
        default=True,
        description="true: the first failure cancels running steps and the rest do not run.",
        validation_alias=AliasChoices("fail_fast", "failFast"),
    )
    steps: list[GptStep] = Field(min_length=1, max_length=MAX_STEPS)


class DefinitionError(RequestRejected):
    """A definition that cannot run; `field` points into the JSON, e.g. `steps[2].waitFor[0]`."""

    def __init__(
        self, field: str, message: str, *, error_type: str = ErrorType.INVALID_DEFINITION, details: Any = None
    ):
        super().__init__(error_type, message, field=field, details=details)


# --- validation --------------------------------------------------------------------------

AgentCheck = Callable[[str], object]
IntentCheck = Callable[[str], object]


def validate_definition(
    defn: GptWorkflowDefinition,
    *,
    check_agent: AgentCheck | None = None,
    check_intent: IntentCheck | None = None,
) -> list[str]:
    """Raise DefinitionError for the first problem found; return the run order (step ids).

    `check_agent(name)` / `check_intent(action)` raise (RequestRejected, LookupError or ValueError)
    for an unknown name; their message is kept and pinned to the step's field.
    """
    order = topological_order(defn)
    position = {step_id: i for i, step_id in enumerate(order)}
    upstream = _ancestors(defn)
    for i, step in enumerate(defn.steps):
        where = f"steps[{i}]"
        _check_action(step, where, check_agent, check_intent)
        expressions: list[tuple[str, str]] = []
        if step.condition is not None:
            expressions.append((f"{where}.condition", step.condition))
        expressions += [(f"{where}.{path}", expr) for path, expr in templates_in(step.params)]
        for field, expr in expressions:
            what = "condition" if field.endswith(".condition") else "template"
            try:
                refs = referenced_steps(expr)
            except ExpressionError as exc:
                raise DefinitionError(field, f"step {step.step_id!r}: bad {what}: {exc}") from None
            for ref in refs:
                _check_reference(defn, step, ref, field, what, upstream, position)
    return order


def _check_action(step: GptStep, where: str, check_agent: AgentCheck | None, check_intent: IntentCheck | None) -> None:
    sid = step.step_id
    if step.action in CHAT_ACTIONS:
        if not step.gpt:
            raise DefinitionError(f"{where}.gpt", f"step {sid!r}: action {step.action!r} needs 'gpt' (an agent name)")
        if check_agent is not None:
            _run_check(check_agent, step.gpt, f"{where}.gpt", sid, ErrorType.UNKNOWN_AGENT)
        key = CHAT_TEXT_PARAM[step.action]
        text = step.params.get(key)
        if not isinstance(text, str) or not text.strip():
            raise DefinitionError(
                f"{where}.params.{key}", f"step {sid!r}: action {step.action!r} needs a non-empty params.{key}"
            )
        return
    if step.gpt is not None:
        raise DefinitionError(
            f"{where}.gpt", f"step {sid!r}: 'gpt' is only used by message/query steps, not by intent {step.action!r}"
        )
    if check_intent is not None:
        _run_check(check_intent, step.action, f"{where}.action", sid, ErrorType.UNKNOWN_INTENT)


def _run_check(check: Callable[[str], object], name: str, field: str, step_id: str, default_type: str) -> None:
    try:
        check(name)
    except RequestRejected as exc:
        raise DefinitionError(field, f"step {step_id!r}: {exc}", error_type=exc.error_type, details=exc.details) from None
    except (LookupError, ValueError) as exc:
        suggestions = list(getattr(exc, "suggestions", []) or [])
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        kind = "action" if default_type == ErrorType.UNKNOWN_INTENT else "agent"
        raise DefinitionError(
            field,
            f"step {step_id!r}: unknown {kind} {name!r}" + (
                " (not 'message', 'query' or a registered intent)" if kind == "action" else ""
            ) + hint,
            error_type=default_type,
            details={"suggestions": suggestions},
        ) from None


def _check_reference(
    defn: GptWorkflowDefinition,
    step: GptStep,
    ref: str,
    field: str,
    what: str,
    upstream: dict[str, list[str]],
    position: dict[str, int],
) -> None:
    sid = step.step_id
    if ref not in position:
        raise DefinitionError(field, f"step {sid!r}: {what} refers to unknown step {ref!r}{_did_you_mean(ref, position)}")
    if ref == sid:
        raise DefinitionError(field, f"step {sid!r}: {what} refers to the step itself")
    if defn.parallel and ref not in upstream[sid]:
        raise DefinitionError(
            field, f"step {sid!r}: {what} reads step {ref!r} but does not wait for it; add {ref!r} to its waitFor"
        )
    if not defn.parallel and position[ref] > position[sid]:
        raise DefinitionError(field, f"step {sid!r}: {what} reads step {ref!r}, which runs after it")


def _did_you_mean(name: str, known: dict[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def topological_order(defn: GptWorkflowDefinition) -> list[str]:
    """Step ids so each comes after its waitFor; ties keep file order. Raises DefinitionError."""
    deps = _dependencies(defn)
    placed: dict[str, None] = {}
    remaining = [s.step_id for s in defn.steps]
    while remaining:
        ready = next((sid for sid in remaining if all(d in placed for d in deps[sid])), None)
        if ready is None:
            cycle = _find_cycle(remaining, deps)
            index = next(i for i, s in enumerate(defn.steps) if s.step_id == cycle[0])
            raise DefinitionError(
                f"steps[{index}].waitFor",
                "waitFor cycle: " + " -> ".join(cycle) + " (each step waits for the next)",
                details={"cycle": cycle},
            )
        placed[ready] = None
        remaining.remove(ready)
    return list(placed)


def _dependencies(defn: GptWorkflowDefinition) -> dict[str, list[str]]:
    """waitFor lists, checked: unique ids, known targets, no self-waits."""
    seen: dict[str, int] = {}
    for i, step in enumerate(defn.steps):
        if step.step_id in seen:
            raise DefinitionError(
                f"steps[{i}].stepId",
                f"duplicate stepId {step.step_id!r} (steps[{seen[step.step_id]}] and steps[{i}])",
            )
        seen[step.step_id] = i
    deps: dict[str, list[str]] = {}
    for i, step in enumerate(defn.steps):
        for j, target in enumerate(step.wait_for):
            field = f"steps[{i}].waitFor[{j}]"
            if target == step.step_id:
                raise DefinitionError(field, f"step {step.step_id!r} waits for itself")
            if target not in seen:
                raise DefinitionError(
                    field, f"step {step.step_id!r} waits for unknown step {target!r}{_did_you_mean(target, seen)}"
                )
        deps[step.step_id] = list(dict.fromkeys(step.wait_for))
    return deps


def _find_cycle(candidates: list[str], deps: dict[str, list[str]]) -> list[str]:
    """A cycle among steps that could not be ordered, as [a, b, ..., a]."""
    pending = dict.fromkeys(candidates)
    path: list[str] = []
    node = candidates[0]
    # Every unplaceable step waits for another unplaceable one, so walking always closes a loop.
    while node not in path:
        path.append(node)
        node = next(d for d in deps[node] if d in pending)
    return path[path.index(node) :] + [node]


def _ancestors(defn: GptWorkflowDefinition) -> dict[str, list[str]]:
    deps = {s.step_id: list(s.wait_for) for s in defn.steps}
    out: dict[str, list[str]] = {}
    for sid in topological_order(defn):
        acc: dict[str, None] = {}
        for d in deps[sid]:
            acc[d] = None
            acc.update(dict.fromkeys(out[d]))
        out[sid] = list(acc)
    return out


def chat_text(action: str, params: dict[str, Any]) -> str:
    """The text a message/query step sends, from its rendered params (non-text values as JSON)."""
    value = params.get(CHAT_TEXT_PARAM[action])
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


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
            s.step_id: StepRecord(step_id=s.step_id, gpt=s.gpt, action=s.action) for s in defn.steps
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
