"""Jobs are Temporal workflows: IDs, starting (idempotently), waiting, and reading them back."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import datetime
from typing import Any

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, CancelledError, TerminatedError, WorkflowAlreadyStartedError
from temporalio.exceptions import TimeoutError as TemporalTimeout
from temporalio.service import RPCError, RPCStatusCode

from config.api_keys import DEFAULT_TENANT
from gateway import tenancy
from gateway.auth import Principal
from gateway.errors import ApiError
from gateway.schemas import ErrorInfo, JobStatus, JobView, StepAwaitingApproval
from intents.canonical import JOB_ID_PATTERN, canonical_json
from intents.errors import ErrorType
from policies.redact import redact_keys
from workflows import search_attributes as sa
from workflows.dag import StepState
from workflows.gpt import GptWorkflowStatus
from workflows.models import IntentState, Stage

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def check_idempotency_key(idempotency_key: str) -> None:
    if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise ApiError(400, "InvalidIdempotencyKey", "Idempotency-Key must be 1-255 visible ASCII characters", field="Idempotency-Key")


def tenant_material(tenant: str, material: str) -> str:
    """The tenant is part of every derived ID, so the same request from two tenants is two jobs. The
    default tenant adds nothing: its IDs are the ones from before tenants existed, so an upgrade changes
    none (tenant names cannot contain NUL, so no other tenant's material can collide with it)."""
    return material if tenant == DEFAULT_TENANT else f"tenant\x00{tenant}\x00{material}"


def job_id_for(intent: str, inputs: dict[str, Any], idempotency_key: str | None = None, *, tenant: str = DEFAULT_TENANT) -> str:
    """`orch-` + SHA-256 of tenant + intent + canonical inputs; or of tenant + intent + the client's Idempotency-Key."""
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
        material = f"{intent}\x00key\x00{idempotency_key}"
    else:
        material = f"{intent}\x00{canonical_json(inputs)}"
    return "orch-" + hashlib.sha256(tenant_material(tenant, material).encode()).hexdigest()


# Not-found messages never repeat the id: it is whatever the client put in the path.
NOT_FOUND = "no such job (unknown, or older than the namespace retention)"


def check_job_id(job_id: str) -> None:
    if not JOB_ID_PATTERN.match(job_id):
        raise ApiError(404, "NotFound", NOT_FOUND, field="job_id")




def details_markdown(intent: str, mode: str, inputs: dict[str, Any]) -> str:
    """static_details for the Web UI: the inputs, secrets redacted, bounded in size."""
    body = json.dumps(redact_keys(inputs), indent=2, ensure_ascii=False, default=str)
    if len(body) > 4000:
        body = body[:4000] + "\n…"
    return f"**{intent}** ({mode} mode)\n\n```json\n{body}\n```"


def cap_result(value: Any, limit: int) -> Any:
    """Keep responses under ChatGPT's 100k-character limit; say so when cut."""
    text = canonical_json(value)
    if len(text) <= limit:
        return value
    return {"truncated": True, "original_chars": len(text), "preview": text[: max(limit - 200, 0)]}


def _same_request(job_id: str, stored: str | None, fingerprint: str) -> None:
    """An Idempotency-Key reused for a different request is a client bug: say so (409)."""
    if stored not in (None, fingerprint):
        raise ApiError(
            409, ErrorType.IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was already used for a different request",
            field="Idempotency-Key", job_id=job_id,
        )  # fmt: skip


async def check_same_request(handle: WorkflowHandle, fingerprint: str) -> None:
    desc = await handle.describe()
    _same_request(handle.id, (await desc.memo()).get("fingerprint"), fingerprint)


async def _stored_fingerprint(client: Client, job_id: str) -> tuple[bool, str | None]:
    """(exists, memo fingerprint) of the latest run under job_id, whatever its state."""
    try:
        desc = await client.get_workflow_handle(job_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False, None
        raise
    return True, (await desc.memo()).get("fingerprint")


# A job whose run failed may be started again under the same ID (a retry); a successful one never is.
ID_REUSE = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
# A read changes nothing, so only a repeat that arrives while it runs shares its answer; a repeat
# after it finished reads again (yesterday's `df -h` is not today's).
ID_REUSE_FOR_READS = WorkflowIDReusePolicy.ALLOW_DUPLICATE


async def start_or_attach(
    client: Client,
    run,
    arg,
    *,
    job_id: str,
    fresh_after_close: bool = False,
    keyed_fingerprint: str | None = None,
    **start_kwargs,
) -> tuple[WorkflowHandle, bool]:
    """Start the workflow under job_id, or attach to the run already there. Returns (handle, started).

    A running run is always attached to. A closed one is returned as is (its stored result), unless it
    failed, or `fresh_after_close` (read-only work without an Idempotency-Key) asks for a new run.

    `keyed_fingerprint` (the job ID came from an Idempotency-Key): the key can never attach other inputs
    to a job, whatever the state of its latest run (running, failed, cancelled, terminated...): a
    different memo fingerprint is a 409 before anything starts. When no run exists yet, the start refuses
    any duplicate, so a concurrent start under the same key is compared after the fact, never reused.
    """
    reuse = ID_REUSE_FOR_READS if fresh_after_close else ID_REUSE
    if keyed_fingerprint is not None:
        exists, stored = await _stored_fingerprint(client, job_id)
        _same_request(job_id, stored, keyed_fingerprint)
        if not exists:
            reuse = WorkflowIDReusePolicy.REJECT_DUPLICATE
        start_kwargs["memo"] = {**(start_kwargs.get("memo") or {}), "fingerprint": keyed_fingerprint}
    try:
        handle = await client.start_workflow(
            run, arg, id=job_id, id_reuse_policy=reuse, id_conflict_policy=WorkflowIDConflictPolicy.FAIL, **start_kwargs
        )
        return handle, True
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(job_id)
        if keyed_fingerprint is not None:
            await check_same_request(handle, keyed_fingerprint)
        return handle, False


def failure_info(exc: BaseException) -> tuple[JobStatus, ErrorInfo]:
    """Walk a WorkflowFailureError's cause chain to the typed error."""
    cause = exc.cause if isinstance(exc, WorkflowFailureError) else exc
    while cause is not None:
        if isinstance(cause, CancelledError):
            return JobStatus.CANCELLED, ErrorInfo(type="Cancelled", message="the job was cancelled")
        if isinstance(cause, TerminatedError):
            return JobStatus.TERMINATED, ErrorInfo(type="Terminated", message=cause.message or "terminated")
        if isinstance(cause, ApplicationError):
            status = {"Rejected": JobStatus.REJECTED, "ApprovalExpired": JobStatus.EXPIRED}.get(cause.type or "", JobStatus.ERROR)
            details = cause.details[0] if cause.details else None
            return status, ErrorInfo(type=cause.type or "Error", message=cause.message, details=details)
        if isinstance(cause, TemporalTimeout):
            return JobStatus.TIMED_OUT, ErrorInfo(type="TimedOut", message=cause.message or "timed out")
        cause = getattr(cause, "cause", None)
    return JobStatus.ERROR, ErrorInfo(type="Error", message=str(exc))


_STATUS = {
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING: JobStatus.RUNNING,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: JobStatus.RUNNING,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED: JobStatus.SUCCESS,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED: JobStatus.ERROR,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED: JobStatus.CANCELLED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED: JobStatus.TERMINATED,
    WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT: JobStatus.TIMED_OUT,
}


async def describe(
    client: Client, job_id: str, who: Principal | None = None
) -> tuple[WorkflowHandle, WorkflowExecutionDescription]:
    """The job's handle and description; 404 when there is no such job or, given `who`, when it is
    another tenant's (the same 404: nothing tells the two apart)."""
    check_job_id(job_id)
    handle = client.get_workflow_handle(job_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, "NotFound", NOT_FOUND, field="job_id") from None
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise ApiError(404, "NotFound", NOT_FOUND, field="job_id") from None
        raise
    if who is not None and not tenancy.visible(who, desc):
        raise ApiError(404, "NotFound", NOT_FOUND, field="job_id")
    return handle, desc


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() * 1000) if start and end else None


async def intent_state(handle: WorkflowHandle) -> IntentState | None:
    try:
        return await handle.query("state", result_type=IntentState)
    except Exception:  # no worker / not an IntentWorkflow / closed: the state is simply unknown
        return None


async def job_view(client: Client, job_id: str, who: Principal | None = None) -> JobView:
    handle, desc = await describe(client, job_id, who)
    attrs = desc.typed_search_attributes
    status = _STATUS.get(desc.raw_description.workflow_execution_info.status, JobStatus.RUNNING)
    view = JobView(
        job_id=job_id,
        intent=attrs.get(sa.INTENT),
        mode=attrs.get(sa.MODE),
        requested_by=attrs.get(sa.REQUESTED_BY),
        tenant=tenancy.tenant_of(attrs),
        status=status,
        started_at=desc.start_time,
        closed_at=desc.close_time,
        duration_ms=_ms(desc.start_time, desc.close_time),
    )
    if status == JobStatus.RUNNING and attrs.get(sa.APPROVAL) == "pending":
        state = await intent_state(handle)
        if state and state.stage == Stage.AWAITING_APPROVAL:
            view.status, view.risk, view.expires_at = JobStatus.AWAITING_APPROVAL, state.risks, state.expires_at
            view.approval_request = state.approval_request
        if state and view.intent is None:
            view.intent = state.intent
    elif status == JobStatus.RUNNING and (gpt_id := gpt_workflow_of(desc.workflow_type, job_id, view.intent)):
        gpt = await gpt_status(client, gpt_id)
        waiting = [
            StepAwaitingApproval(step_id=s.step_id, job_id=s.job_id, approval=s.approval)
            for s in (gpt.steps if gpt else [])
            if s.state == StepState.AWAITING_APPROVAL and s.job_id and s.approval
        ]
        view.steps_awaiting_approval = waiting or None
    elif status == JobStatus.SUCCESS:
        outcome = await handle.result()
        view.result = outcome.get("result", outcome) if isinstance(outcome, dict) and desc.workflow_type == "IntentWorkflow" else outcome
        if isinstance(outcome, dict) and outcome.get("approval"):
            view.approval = outcome["approval"]
        if isinstance(outcome, dict) and "duration_ms" in outcome and desc.workflow_type == "IntentWorkflow":
            view.duration_ms = view.duration_ms or outcome["duration_ms"]
    elif status != JobStatus.RUNNING:
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            view.status, view.error = failure_info(exc)
            if view.status not in (JobStatus.REJECTED, JobStatus.EXPIRED):
                view.status = status
        except Exception as exc:  # noqa: BLE001 - any read failure becomes a typed error, never a 500
            view.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
    if attrs.get(sa.APPROVAL) and attrs.get(sa.APPROVAL) != "pending":
        view.approval = (view.approval or {}) | {"decision": attrs.get(sa.APPROVAL), "approver": attrs.get(sa.APPROVER)}
    return view


def gpt_workflow_of(workflow_type: str | None, job_id: str, intent: str | None) -> str | None:
    """The GptWorkflow behind a job: the job itself, or the `.run` child of a gpt.workflow intent job."""
    if workflow_type == "GptWorkflow":
        return job_id
    if workflow_type == "IntentWorkflow" and intent == "gpt.workflow":
        return f"{job_id}.run"
    return None


async def with_step_approvals(client: Client, status: GptWorkflowStatus) -> GptWorkflowStatus:
    """Show each running step whose own job waits for a human as `awaiting_approval`, with what to decide.

    Read from Temporal each time: the step's job id is in the workflow's step record, and the child's
    `state` query says whether it waits (the parent only knows the step is running)."""
    running = [s for s in status.steps if s.state == StepState.RUNNING and s.job_id]
    states = await asyncio.gather(*(intent_state(client.get_workflow_handle(s.job_id)) for s in running))
    for step, state in zip(running, states, strict=True):
        if state is not None and state.stage == Stage.AWAITING_APPROVAL:
            step.state, step.approval = StepState.AWAITING_APPROVAL, state.approval_request
    return status


async def gpt_status(client: Client, workflow_id: str) -> GptWorkflowStatus | None:
    try:
        status = await client.get_workflow_handle(workflow_id).query("status", result_type=GptWorkflowStatus)
    except Exception:  # no worker / not started yet: nothing to show
        return None
    return await with_step_approvals(client, status)


async def wait_for_outcome(handle: WorkflowHandle, timeout: float, *, watch_approval: bool):
    """Wait up to `timeout` for the result. Returns ("done", result) | ("failed", exc) |
    ("awaiting", IntentState) | ("pending", None)."""

    async def result():
        try:
            return "done", await handle.result()
        except WorkflowFailureError as exc:
            return "failed", exc

    async def approval():
        while True:
            state = await intent_state(handle)
            if state and state.stage == Stage.AWAITING_APPROVAL:
                return "awaiting", state
            if state and state.stage == Stage.DONE:
                await asyncio.Event().wait()  # the result() task will win
            await asyncio.sleep(0.15)

    tasks = [asyncio.ensure_future(result())]
    if watch_approval:
        tasks.append(asyncio.ensure_future(approval()))
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return next(iter(done)).result() if done else ("pending", None)
    finally:
        for task in tasks:
            task.cancel()


# --- cancel that always ends the job ---------------------------------------------------------

_CANCEL_WATCHDOGS: set[asyncio.Task] = set()


def _is_open(desc: WorkflowExecutionDescription) -> bool:
    return desc.raw_description.workflow_execution_info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


def _workflow_task_failing(desc: WorkflowExecutionDescription) -> bool:
    """Its workflow task has failed at least once and is being retried: it cannot take a cancel."""
    pending = desc.raw_description.pending_workflow_task
    return desc.raw_description.HasField("pending_workflow_task") and pending.attempt >= 2


async def end_within_grace(client: Client, job_id: str, grace_s: float, *, poll_s: float = 0.25) -> str:
    """After a cancel request: wait up to grace_s for the run to close; terminate it (with a reason)
    if it has not, or at once if its workflow task keeps failing. Returns "closed" or "terminated"."""
    handle = client.get_workflow_handle(job_id)
    deadline = asyncio.get_running_loop().time() + grace_s
    while True:
        desc = await handle.describe()
        if not _is_open(desc):
            return "closed"
        stuck = _workflow_task_failing(desc)
        if stuck or asyncio.get_running_loop().time() >= deadline:
            why = "its workflow task keeps failing" if stuck else f"it did not take the cancellation within {grace_s:g} s"
            try:
                await handle.terminate(reason=f"cancel requested; terminated because {why}")
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            return "terminated"
        await asyncio.sleep(poll_s)


async def cancel_job(client: Client, job_id: str, grace_s: float) -> None:
    """Request cancellation, then make sure the job ends: a watchdog terminates it after the grace
    period (see end_within_grace). The request answers at once; the watchdog runs in the gateway."""
    handle = client.get_workflow_handle(job_id)
    await handle.cancel()

    async def watchdog() -> None:
        try:
            await end_within_grace(client, job_id, grace_s)
        except Exception:  # noqa: BLE001 - a lost watchdog leaves a cancelled-but-open job: the run timeout remains
            import logging

            logging.getLogger("gpt_orchestrator.gateway").warning("cancel watchdog for %s failed", job_id, exc_info=True)

    task = asyncio.create_task(watchdog())
    _CANCEL_WATCHDOGS.add(task)
    task.add_done_callback(_CANCEL_WATCHDOGS.discard)
