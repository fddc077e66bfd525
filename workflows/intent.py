"""IntentWorkflow: one /orchestrate request = one durable run of one intent's activity.

Optional gate: an intent with a preflight activity may come back with risks; the run then waits
(durably, for hours if need be) for an `approve` or `reject` update, or expires.

Progress (`progress` query, workflows/progress.py): the handler step started and how it ended, and the
approval asked for and decided. A run that is a GPT workflow step (its parent is the GptWorkflow) also
tells its parent when it starts and stops waiting for a human, so the workflow's own stream shows it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, is_cancelled_exception
from temporalio.workflow import ParentClosePolicy

from workflows import details
from workflows.callback import CallbackWorkflow
from workflows.failures import DATA_ERRORS

with workflow.unsafe.imports_passed_through():
    from config.api_keys import DEFAULT_TENANT
    from intents import registry
    from intents.approval import Approval, ApprovalRequest, DecisionKind, DecisionRequest, Preflight
    from intents.callbacks import CallbackDelivery
    from intents.canonical import fingerprint
    from intents.errors import ErrorType
    from intents.spec import IntentSpec
    from intents.tenancy import with_tenant
    from workflows import search_attributes as sa
    from workflows.models import STEP_APPROVAL_SIGNAL, IntentRequest, IntentResult, IntentState, Stage, StepApprovalNote
    from workflows.progress import (
        ApprovalPhase,
        EventType,
        ProgressLog,
        ProgressPage,
        ProgressQuery,
        StepPhase,
        excerpt,
    )

# Runs that tell their parent (a GptWorkflow) about their approval wait: signals, so new commands.
PARENT_PROGRESS_PATCH = "progress-to-parent"

PREFLIGHT_TIMEOUT = timedelta(seconds=15)

# The fast path's patch marker, one per intent: `local-activity:memory.write`. A run that took it has the
# marker in its history (before the local activity's own marker); a run without it ran a normal activity.
LOCAL_ACTIVITY_PATCH = "local-activity:"


def local_activity_patch(intent: str) -> str:
    return LOCAL_ACTIVITY_PATCH + intent


def runs_locally(spec: IntentSpec, task_queue: str | None) -> bool:
    """Whether this run's handler is a local activity, decided once per run and recorded in its history.

    A new run takes the fast path when the intent declares it (`IntentSpec.local_activity`), the handler
    stays on this worker (no zone queue), and the worker activates the intent's patch (the worker's
    `patch_activation_callback` applies LOCAL_ACTIVITY_INTENTS; no callback = activated). A replay
    follows its history, whatever the code or the setting says now: the marker is there or it is not.
    So runs started before this path existed (or before a setting changed) replay as they ran.
    """
    patch = local_activity_patch(spec.name)
    if workflow.unsafe.is_replaying():
        return workflow.patched(patch)
    return spec.local_activity and task_queue is None and workflow.patched(patch)


# The callback's job document says what GET /jobs/{id} says once the job is closed (gateway JobView).
CLOSED_STATUS_BY_ERROR: dict[str, str] = {ErrorType.REJECTED: "rejected", ErrorType.EXPIRED: "expired"}


def error_document(err: ApplicationError) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": err.type, "message": err.message}
    if err.details:
        doc["details"] = err.details[0]
    return doc


def activity_failure(err: ActivityError | ChildWorkflowError) -> ApplicationError:
    """Flatten ActivityError/ChildWorkflowError(cause=...) into one typed failure the gateway maps to HTTP."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True)
    if cause is not None and type(cause).__name__ == "TimeoutError":
        return ApplicationError(
            f"activity timed out: {getattr(cause, 'message', cause)}",
            type=ErrorType.ACTIVITY_TIMEOUT,
            non_retryable=True,
        )
    return ApplicationError(str(cause or err), type=ErrorType.INTERNAL, non_retryable=True)


def run_tenant() -> str | None:
    """The tenant of the running job: its `Tenant` search attribute, set by the gateway from the requesting
    key and handed down to child runs. None: a run started around the gateway (the default tenant)."""
    return workflow.info().typed_search_attributes.get(sa.TENANT)


def _inherited() -> TypedSearchAttributes | None:
    """This run's tenant and requester, for a child run (None: it has neither, as before tenants)."""
    pairs = sa.inherited(workflow.info().typed_search_attributes)
    return TypedSearchAttributes(pairs) if pairs else None


@dataclass(frozen=True)
class Clearance:
    """Why the run may go ahead: no risks (approval None), or a recorded approval; and where to run."""

    approval: Approval | None = None
    task_queue: str | None = None  # the host's zone queue (ssh.*), or the workflow's own


@workflow.defn(name="IntentWorkflow", failure_exception_types=DATA_ERRORS)
class IntentWorkflow:
    def __init__(self) -> None:
        self._state: IntentState | None = None
        self._decision: Approval | None = None
        self._fingerprint: str | None = None
        self._log = ProgressLog()

    @property
    def _live(self) -> IntentState:
        """The run's state, which exists from the first line of run() on."""
        assert self._state is not None
        return self._state

    @workflow.run
    async def run(self, req: IntentRequest) -> IntentResult:
        spec = registry.for_workflow(req.intent)
        self._state = IntentState(stage=Stage.RUNNING, intent=req.intent)
        started = workflow.now()
        job: dict[str, Any] = {"job_id": workflow.info().workflow_id, "intent": req.intent, "mode": str(req.mode)}
        # Who asked, as GET /jobs/{id} says it (the callback's document is that job document).
        attrs = workflow.info().typed_search_attributes
        if (requested_by := attrs.get(sa.REQUESTED_BY)) is not None:
            job["requested_by"] = requested_by
        job["tenant"] = run_tenant() or DEFAULT_TENANT
        try:
            clearance = await self._clear_to_run(spec, req)
            approval, task_queue = clearance.approval, clearance.task_queue
            self._live.stage = Stage.RUNNING
            workflow.set_current_details(f"running {spec.child_workflow or spec.activity}")
            self._step_event(req, StepPhase.STARTED)
            # A tenant-scoped handler (memory.*) gets this job's tenant, whatever the inputs said.
            call = with_tenant(spec, spec.activity_arg(req.inputs, workflow.info().workflow_id), run_tenant())
            if spec.child_workflow == "GptWorkflow" and isinstance(call, dict):
                call = {**call, "requested_by": req.requested_by}  # its steps' approvals say who asked
            args: list[Any] = [call] if approval is None else [call, approval]
            try:
                if spec.child_workflow:
                    output = await workflow.execute_child_workflow(
                        spec.child_workflow,
                        call,
                        id=f"{workflow.info().workflow_id}.run",
                        static_summary=self._activity_summary(spec, req),
                        search_attributes=_inherited(),  # the child's steps run in this job's tenant
                    )
                elif runs_locally(spec, task_queue):
                    output = await workflow.execute_local_activity(
                        spec.activity,
                        args=args,
                        start_to_close_timeout=spec.timeout,
                        retry_policy=spec.retry.to_policy(),
                        summary=self._activity_summary(spec, req),
                    )
                else:
                    output = await workflow.execute_activity(
                        spec.activity,
                        args=args,
                        task_queue=task_queue,
                        start_to_close_timeout=spec.timeout,
                        heartbeat_timeout=spec.heartbeat_timeout,
                        retry_policy=spec.retry.to_policy(),
                        summary=self._activity_summary(spec, req),
                    )
            except (ActivityError, ChildWorkflowError) as err:
                if is_cancelled_exception(err):
                    raise
                raise activity_failure(err) from err
            duration_ms = int((workflow.now() - started).total_seconds() * 1000)
            result = IntentResult(
                intent=req.intent, mode=req.mode, result=output, duration_ms=duration_ms, approval=approval
            )
            job |= {"status": "success", "result": output, "duration_ms": duration_ms}
            self._step_event(req, StepPhase.SUCCEEDED, output_excerpt=excerpt(output))
            details.succeeded(started)
            return result
        except ApplicationError as err:
            job |= {"status": CLOSED_STATUS_BY_ERROR.get(err.type or "", "error"), "error": error_document(err)}
            self._step_event(req, StepPhase.FAILED, error=excerpt(err.message), error_type=err.type)
            if err.type == ErrorType.REJECTED and self._decision is not None:
                workflow.set_current_details(f"rejected by {self._decision.approver}")
            elif err.type == ErrorType.EXPIRED:
                workflow.set_current_details("expired: no decision in time; nothing was run")
            else:
                details.ended_by(err)
            raise
        except BaseException as err:
            if is_cancelled_exception(err):
                job |= {"status": "cancelled", "error": {"type": "Cancelled", "message": "the job was cancelled"}}
                self._step_event(req, StepPhase.CANCELLED)
            elif isinstance(err, details.CLOSING):
                self._step_event(req, StepPhase.FAILED, error=excerpt(str(err)), error_type=type(err).__name__)
            if isinstance(err, details.CLOSING):
                details.ended_by(err)
            raise
        finally:
            self._live.stage = Stage.DONE
            if self._decision is not None:
                job["approval"] = self._decision.model_dump(mode="json")
            if req.callback_url and "status" in job:
                await self._deliver_callback(req.callback_url, job, started)

    async def _clear_to_run(self, spec: IntentSpec, req: IntentRequest) -> Clearance:
        """Run the preflight (if any); wait for a human when it reports risks."""
        if not spec.preflight_activity:
            return Clearance()
        self._fingerprint = self._fingerprint_of(spec, req)
        self._live.stage = Stage.PREFLIGHT
        try:
            pre = await workflow.execute_activity(
                spec.preflight_activity,
                req.inputs,
                result_type=Preflight,
                start_to_close_timeout=PREFLIGHT_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"preflight {spec.name}",
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            raise activity_failure(err) from err
        self._live.target = pre.target
        self._live.risks = list(pre.risks)
        if not pre.risks:
            return Clearance(task_queue=pre.task_queue)
        if pre.inline_confirmed:
            approval = Approval(
                decision=DecisionKind.INLINE,
                approver="caller (confirm_dangerous)",
                decided_at=workflow.now(),
                fingerprint=self._fingerprint,
            )
            return Clearance(self._record(approval), pre.task_queue)
        return Clearance(await self._wait_for_decision(pre, req), pre.task_queue)

    async def _wait_for_decision(self, pre: Preflight, req: IntentRequest) -> Approval:
        timeout = timedelta(seconds=pre.approval_timeout_s)
        now = workflow.now()
        self._live.stage = Stage.AWAITING_APPROVAL
        self._live.expires_at = now + timeout
        self._live.approval_request = ApprovalRequest(
            **pre.review.model_dump(),
            intent=req.intent,
            risks=list(pre.risks),
            requested_by=req.requested_by,
            requested_at=now,
            expires_at=now + timeout,
            fingerprint=self._fingerprint or "",
        )
        workflow.upsert_search_attributes([sa.APPROVAL.value_set("pending")])
        workflow.set_current_details(f"awaiting approval ({'; '.join(pre.risks)[:120]})")
        request = self._live.approval_request.model_dump(mode="json")
        self._log.add(
            EventType.APPROVAL,
            now,
            {"job_id": workflow.info().workflow_id, "state": ApprovalPhase.PENDING, "request": request},
        )
        await self._tell_parent(
            StepApprovalNote(job_id=workflow.info().workflow_id, state=ApprovalPhase.PENDING, request=request)
        )
        try:
            await workflow.wait_condition(lambda: self._decision is not None, timeout=timeout)
        except asyncio.TimeoutError:
            self._decision = Approval(
                decision=DecisionKind.EXPIRED,
                approver="timer",
                decided_at=workflow.now(),
                fingerprint=self._fingerprint,
            )
        assert self._decision is not None  # the condition above, or the expiry just recorded
        decision = self._record(self._decision)
        recorded = decision.model_dump(mode="json")
        self._log.add(
            EventType.APPROVAL,
            workflow.now(),
            {"job_id": workflow.info().workflow_id, "state": ApprovalPhase.DECIDED, "decision": recorded},
        )
        await self._tell_parent(
            StepApprovalNote(job_id=workflow.info().workflow_id, state=ApprovalPhase.DECIDED, decision=recorded)
        )
        if decision.decision == DecisionKind.REJECTED:
            why = f": {decision.reason}" if decision.reason else ""
            raise ApplicationError(f"rejected by {decision.approver}{why}", type=ErrorType.REJECTED, non_retryable=True)
        if decision.decision == DecisionKind.EXPIRED:
            raise ApplicationError(
                f"no decision within {int(timeout.total_seconds())}s; nothing was run",
                type=ErrorType.EXPIRED,
                non_retryable=True,
            )
        return decision

    def _record(self, decision: Approval) -> Approval:
        self._decision = decision
        self._live.approval = decision
        # Decided: no reader may take it for waiting any more, also while the parent hears of it (a signal's
        # round trip) before the job runs or fails. Read by queries only, so replays are unaffected.
        ends = decision.decision in (DecisionKind.REJECTED, DecisionKind.EXPIRED)
        self._live.stage = Stage.DONE if ends else Stage.RUNNING
        workflow.upsert_search_attributes(
            [sa.APPROVAL.value_set(str(decision.decision)), sa.APPROVER.value_set(decision.approver)]
        )
        return decision

    def _decide(self, kind: DecisionKind, req: DecisionRequest) -> Approval:
        self._decision = Approval(
            decision=kind,
            approver=req.approver or "api",
            reason=req.reason,
            note=req.note,
            decided_at=workflow.now(),
            fingerprint=self._fingerprint,
        )
        return self._decision

    def _check_decidable(self, req: DecisionRequest) -> None:
        """The update validator: one decision, only while the job waits, and only for what was reviewed."""
        if self._state is None or self._live.stage != Stage.AWAITING_APPROVAL or self._decision is not None:
            stage = self._live.stage if self._state else "starting"
            raise ValueError(f"this job is not awaiting approval (stage: {stage})")
        if req.fingerprint is not None and req.fingerprint != self._fingerprint:
            raise ApplicationError(
                "the fingerprint sent with the decision is not this job's: the request under review is not the "
                "one this job runs; read GET /jobs/{id} again",
                type=ErrorType.APPROVAL_MISMATCH,
                non_retryable=True,
            )

    @staticmethod
    def _fingerprint_of(spec: IntentSpec, req: IntentRequest) -> str:
        """Of the validated inputs (defaults filled in), as the gateway's memo and the handler compute it."""
        try:
            inputs = spec.input_model.model_validate(req.inputs).model_dump(mode="json")
        except Exception:  # the handler will refuse them; bind to what was sent
            inputs = req.inputs
        return fingerprint(req.intent, inputs)

    @workflow.update(name="approve")
    async def approve(self, req: DecisionRequest) -> Approval:
        return self._decide(DecisionKind.APPROVED, req)

    @approve.validator
    def _validate_approve(self, req: DecisionRequest) -> None:
        self._check_decidable(req)

    @workflow.update(name="reject")
    async def reject(self, req: DecisionRequest) -> Approval:
        return self._decide(DecisionKind.REJECTED, req)

    @reject.validator
    def _validate_reject(self, req: DecisionRequest) -> None:
        self._check_decidable(req)

    @workflow.query(name="state")
    def state(self) -> IntentState | None:
        return self._state

    @workflow.query(name="progress")
    def progress(self, query: ProgressQuery) -> ProgressPage:
        state = self._state.model_dump(mode="json") if query.with_state and self._state is not None else None
        return self._log.page(query, state)

    def _step_event(self, req: IntentRequest, phase: StepPhase, **data: Any) -> None:
        self._log.add(
            EventType.STEP, workflow.now(), {"step_id": req.intent, "action": req.intent, "state": phase, **data}
        )

    async def _tell_parent(self, note: StepApprovalNote) -> None:
        """A GPT workflow step's own job: tell the workflow it waits for (or got) a human decision."""
        parent = workflow.info().parent
        if parent is None or not workflow.patched(PARENT_PROGRESS_PATCH):
            return
        try:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(STEP_APPROVAL_SIGNAL, note)
        except Exception:  # noqa: BLE001 - the parent has closed: there is no one to tell
            workflow.logger.info("could not tell parent %s about the approval", parent.workflow_id)

    async def _deliver_callback(self, url: str, job: dict[str, Any], started: datetime) -> None:
        closed = workflow.now()
        job |= {"started_at": started.isoformat(), "closed_at": closed.isoformat()}
        job.setdefault("duration_ms", int((closed - started).total_seconds() * 1000))
        # A child that outlives this run: the job's outcome is final now, and a slow or failing
        # receiver is retried there (for minutes) without holding the job open.
        info = workflow.info()
        await workflow.start_child_workflow(
            CallbackWorkflow.run,
            CallbackDelivery(url=url, job=job),
            id=f"{info.workflow_id}.callback-{info.run_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"callback for {job['status']} job",
            search_attributes=_inherited(),
        )

    @staticmethod
    def _activity_summary(spec: IntentSpec, req: IntentRequest) -> str:
        try:
            return spec.summary_for(spec.input_model.model_validate(req.inputs))
        except Exception:  # a summary must never fail a run
            return spec.name
