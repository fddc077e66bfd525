"""One way to start, wait for and end a job, shared by /orchestrate, the job routes, GPT workflows and fleets.

A job is a Temporal workflow. This module makes its ID, starts it (idempotently, or attaches to the run
already there), waits for its outcome, reads its closed status and failure, and cancels it so that it
always ends. How an outcome is *answered* over HTTP is gateway/answers.py; how a job *reads* (GET
/jobs/{id}) is gateway/job_view.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, CancelledError, TerminatedError, WorkflowAlreadyStartedError
from temporalio.exceptions import TimeoutError as TemporalTimeout
from temporalio.service import RPCError, RPCStatusCode

from gateway import tenancy
from gateway.auth import Principal
from gateway.errors import ApiError
from gateway.schemas import ErrorInfo, JobStatus
from intents.canonical import JOB_ID_PATTERN, canonical_json
from intents.errors import ErrorType
from policies.redact import redact_keys
from workflows.models import IntentState, Stage

T = TypeVar("T")

log = logging.getLogger("gpt_orchestrator.gateway")

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class JobKind(StrEnum):
    """What a job is; its value is the job ID's prefix."""

    INTENT = "orch"  # POST /orchestrate
    GPT_WORKFLOW = "gptwf"  # POST /api/gpt-workflows/create
    FLEET = "fleet"  # POST /api/gpt-fleets/{category}/orchestrate
    SCHEDULED = "sched"  # a run of a schedule: `sched-<schedule id>-<scheduled time>`, made by Temporal


def job_id_for(
    kind: JobKind, name: str, request: Any = None, idempotency_key: str | None = None, *, tenant: str | None = None
) -> str:
    """The one job ID scheme: the kind's prefix + SHA-256 of what makes two requests the same job.

    That is the name (an intent, or the fleet's intent) with the client's Idempotency-Key when it sent
    one, else with the canonical JSON of `request`. With neither (creating a GPT workflow without a key),
    every request is a new job. A `tenant` other than the default scopes the ID, so the same request
    from two tenants is two jobs.
    """
    if idempotency_key is not None:
        if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
            raise ApiError(
                ErrorType.INVALID_IDEMPOTENCY_KEY,
                "Idempotency-Key must be 1-255 visible ASCII characters",
                field="Idempotency-Key",
            )
        material = f"{name}\x00key\x00{idempotency_key}"
    elif request is not None:
        material = f"{name}\x00{canonical_json(request)}"
    else:
        return f"{kind}-{uuid.uuid4().hex}"
    if tenant not in (None, "default"):
        material = f"tenant\x00{tenant}\x00{material}"
    return f"{kind}-" + hashlib.sha256(material.encode()).hexdigest()


def details_markdown(intent: str, mode: str, inputs: dict[str, Any]) -> str:
    """static_details for the Web UI: the inputs, secrets redacted, bounded in size."""
    body = json.dumps(redact_keys(inputs), indent=2, ensure_ascii=False, default=str)
    if len(body) > 4000:
        body = body[:4000] + "\n…"
    return f"**{intent}** ({mode} mode)\n\n```json\n{body}\n```"


# A query unanswered this long (s from the first) is asked again alongside: Temporal may hold it (first_answer).
QUERY_AGAIN_AFTER_S = (0.1, 0.3)
# Not-found messages never repeat the id: it is whatever the client put in the path.
NOT_FOUND = "no such job (unknown, or older than the namespace retention)"


def check_job_id(job_id: str) -> None:
    if not JOB_ID_PATTERN.match(job_id):
        raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="job_id")


def _same_request(job_id: str, stored: str | None, fingerprint: str) -> None:
    """An Idempotency-Key reused for a different request is a client bug: say so (409)."""
    if stored not in (None, fingerprint):
        raise ApiError(ErrorType.IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was already used for a different request",
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


class StartedJob(NamedTuple):
    handle: WorkflowHandle
    is_new: bool  # False: the request attached to a run already there (answered with Idempotent-Replayed)


async def start_or_attach(
    client: Client,
    run,
    arg,
    *,
    job_id: str,
    fresh_after_close: bool = False,
    keyed_fingerprint: str | None = None,
    **start_kwargs,
) -> StartedJob:
    """Start the workflow under job_id, or attach to the run already there.

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
        return StartedJob(handle, True)
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(job_id)
        if keyed_fingerprint is not None:
            await check_same_request(handle, keyed_fingerprint)
        return StartedJob(handle, False)


class JobFailure(NamedTuple):
    status: JobStatus
    error: ErrorInfo


# Closed runs, by Temporal's status. A failed run's own error may say more (rejected, expired): failure_of.
JOB_STATUS: dict[WorkflowExecutionStatus, JobStatus] = {
    WorkflowExecutionStatus.RUNNING: JobStatus.RUNNING,
    WorkflowExecutionStatus.CONTINUED_AS_NEW: JobStatus.RUNNING,
    WorkflowExecutionStatus.COMPLETED: JobStatus.SUCCESS,
    WorkflowExecutionStatus.FAILED: JobStatus.ERROR,
    WorkflowExecutionStatus.CANCELED: JobStatus.CANCELLED,
    WorkflowExecutionStatus.TERMINATED: JobStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT: JobStatus.TIMED_OUT,
}
_STATUS_BY_FAILURE_TYPE = {ErrorType.REJECTED: JobStatus.REJECTED, ErrorType.EXPIRED: JobStatus.EXPIRED}


def failure_of(exc: BaseException) -> JobFailure:
    """The one walk down a failure's cause chain to what ended the job, typed."""
    cause: BaseException | None = exc.cause if isinstance(exc, WorkflowFailureError) else exc
    while cause is not None:
        if isinstance(cause, CancelledError):
            return JobFailure(JobStatus.CANCELLED, ErrorInfo(type=ErrorType.CANCELLED, message="the job was cancelled"))
        if isinstance(cause, TerminatedError):
            return JobFailure(
                JobStatus.TERMINATED, ErrorInfo(type=ErrorType.TERMINATED, message=cause.message or "terminated")
            )
        if isinstance(cause, ApplicationError):
            status = _STATUS_BY_FAILURE_TYPE.get(cause.type or "", JobStatus.ERROR)  # type: ignore[call-overload]
            details = cause.details[0] if cause.details else None
            return JobFailure(
                status, ErrorInfo(type=cause.type or ErrorType.ERROR, message=cause.message, details=details)
            )
        if isinstance(cause, TemporalTimeout):
            return JobFailure(
                JobStatus.TIMED_OUT, ErrorInfo(type=ErrorType.TIMED_OUT, message=cause.message or "timed out")
            )
        cause = getattr(cause, "cause", None)
    return JobFailure(JobStatus.ERROR, ErrorInfo(type=ErrorType.ERROR, message=str(exc)))


def failure_message(exc: BaseException) -> str:
    """What an update's or a query's failure said (its ApplicationError's message), for an error body."""
    cause = getattr(exc, "cause", None)
    return getattr(cause, "message", None) or str(cause or exc)


def failure_type(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "cause", None), "type", None)


class DescribedJob(NamedTuple):
    handle: WorkflowHandle
    description: WorkflowExecutionDescription


async def describe(client: Client, job_id: str, who: Principal | None = None) -> DescribedJob:
    """The job's handle and description; 404 (naming no job) when there is none, or, given the caller
    `who`, when it is another tenant's: the same 404, so nothing tells the two apart."""
    check_job_id(job_id)
    handle = client.get_workflow_handle(job_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="job_id") from None
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="job_id") from None
        raise
    if who is not None and not tenancy.visible(who, desc):
        raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="job_id")
    return DescribedJob(handle, desc)


def is_open(desc: WorkflowExecutionDescription) -> bool:
    return desc.status == WorkflowExecutionStatus.RUNNING


class HedgeBudget:
    """Asking again is allowed while the extra asks stay under `share` of all first asks (a token bucket:
    each first ask earns `share` of a token, each extra ask spends one, at most `burst` are saved). A
    worker too busy to answer any query within 0.1 s would otherwise get every query three times."""

    def __init__(self, share: float = 0.1, burst: float = 10.0) -> None:
        self.share, self.burst, self.tokens = share, burst, burst

    def asked(self) -> None:
        self.tokens = min(self.burst, self.tokens + self.share)

    def may_ask_again(self) -> bool:
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


QUERY_HEDGES = HedgeBudget()  # this process's, shared by every read of a workflow's state


async def read_state(handle: WorkflowHandle, query: Any, *args: Any, **kwargs: Any) -> Any:
    """handle.query(query, ...), the one way the gateway reads a workflow's own state: asked again
    alongside after QUERY_AGAIN_AFTER_S while unanswered (first_answer), since Temporal may hold a query.
    A watch's log reads are the exception: they ask again when the history moves (JobWatch._refresh_hedged)."""
    return await first_answer(lambda: handle.query(query, *args, **kwargs))


async def first_answer(
    ask: Callable[[], Coroutine[Any, Any, T]],
    again_after_s: Sequence[float] = QUERY_AGAIN_AFTER_S,
    budget: HedgeBudget | None = QUERY_HEDGES,
) -> T:
    """ask(), asked again alongside at each of again_after_s (seconds from the first) while none has
    answered and the budget allows: the first answer wins; when every ask has failed, the last failure is
    raised. For a query Temporal may hold: in the stream bench, a just-started job's first query (sent
    while its first workflow task was in flight) took 1-1.3 s in half the rounds, while the same query
    sent 1-13 ms later was answered in 5-13 ms."""
    loop = asyncio.get_running_loop()
    start, hedges = loop.time(), list(again_after_s)
    asks = [asyncio.create_task(ask())]
    if budget is not None:
        budget.asked()
    try:
        while True:
            timeout = max(hedges[0] - (loop.time() - start), 0) if hedges else None
            done, _ = await asyncio.wait(asks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = RuntimeError("cancelled") if task.cancelled() else task.exception()
                if error is None:
                    return task.result()
                asks.remove(task)
                if not asks:
                    raise error
            if hedges and loop.time() - start >= hedges[0]:
                hedges.pop(0)
                if budget is None or budget.may_ask_again():
                    asks.append(asyncio.create_task(ask()))
    finally:
        for task in asks:
            task.cancel()


async def intent_state(handle: WorkflowHandle) -> IntentState | None:
    """An IntentWorkflow's own state (its stage, what awaits approval); None when it cannot say."""
    try:
        return await read_state(handle, "state", result_type=IntentState)
    except Exception:  # no worker / not an IntentWorkflow / closed: the state is simply unknown
        return None


class OutcomeKind(StrEnum):
    DONE = "done"  # the run completed: `value` is its result
    FAILED = "failed"  # the run failed, was cancelled, terminated or timed out: `value` is a JobFailure
    AWAITING_APPROVAL = "awaiting_approval"  # the run waits for a human: `value` is its IntentState
    PENDING = "pending"  # still running when the wait ran out


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    value: Any = None


async def wait_for_outcome(handle: WorkflowHandle, timeout: float, *, watch_approval: bool = False) -> Outcome:
    """The one wait: up to `timeout` seconds for the run's result (or, with `watch_approval`, for it to
    stop at an approval gate)."""
    if timeout <= 0:
        return Outcome(OutcomeKind.PENDING)

    async def result() -> Outcome:
        try:
            return Outcome(OutcomeKind.DONE, await handle.result())
        except WorkflowFailureError as exc:
            return Outcome(OutcomeKind.FAILED, failure_of(exc))

    async def approval() -> Outcome:
        while True:
            state = await intent_state(handle)
            if state and state.stage == Stage.AWAITING_APPROVAL:
                return Outcome(OutcomeKind.AWAITING_APPROVAL, state)
            if state and state.stage == Stage.DONE:
                await asyncio.Event().wait()  # the result() task will win
            await asyncio.sleep(0.15)

    tasks = [asyncio.ensure_future(result())]
    if watch_approval:
        tasks.append(asyncio.ensure_future(approval()))
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return next(iter(done)).result() if done else Outcome(OutcomeKind.PENDING)
    finally:
        for task in tasks:
            task.cancel()


# --- cancel that always ends the job ---------------------------------------------------------

_CANCEL_WATCHDOGS: set[asyncio.Task] = set()


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
        if not is_open(desc):
            return "closed"
        stuck = _workflow_task_failing(desc)
        if stuck or asyncio.get_running_loop().time() >= deadline:
            why = (
                "its workflow task keeps failing" if stuck else f"it did not take the cancellation within {grace_s:g} s"
            )
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
            log.warning("cancel watchdog for %s failed", job_id, exc_info=True)

    task = asyncio.create_task(watchdog())
    _CANCEL_WATCHDOGS.add(task)
    task.add_done_callback(_CANCEL_WATCHDOGS.discard)
