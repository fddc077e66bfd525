"""GET /jobs/{id} (read from Temporal), approvals (workflow updates) and cancel."""

from __future__ import annotations

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from gateway import jobs
from gateway.auth import Cancels, Decides, Principal, Reads
from gateway.errors import OUTAGE_STATUSES, ApiError, status_for
from gateway.openapi import JOB_OUTCOME, ContractRoute
from gateway.routes.orchestrate import answer, resolve_spec
from gateway.schemas import DecisionRecorded, ErrorResponse, JobStatus, JobView, OrchestrateAccepted, OrchestrateSuccess
from intents.approval import Approval, DecisionBody, DecisionRequest
from intents.errors import ErrorType

router = APIRouter(route_class=ContractRoute, tags=["jobs"])
JobId = Path(description="The job_id returned by POST /orchestrate.")


@router.get(
    "/jobs/{job_id}",
    operation_id="getJob",
    summary="Read a job's status and result",
    response_model=JobView,
    response_model_exclude_none=True,
)
async def get_job(request: Request, who: Reads, job_id: str = JobId) -> JobView:
    client = await request.app.state.temporal.client()
    view = await jobs.job_view(client, job_id, who)
    view.result = jobs.cap_result(view.result, request.app.state.settings.max_result_chars)
    return view


async def _decide(request: Request, who: Principal, job_id: str, update: str, body: DecisionBody):
    client = await request.app.state.temporal.client()
    handle, desc = await jobs.describe(client, job_id, who)
    if desc.workflow_type != "IntentWorkflow":
        raise ApiError(409, "NotAwaitingApproval", "this job does not take approvals", field="job_id", job_id=job_id)
    # Top-level jobs and GPT workflow steps carry `Intent`; a step started before it did answers its state query.
    intent = desc.typed_search_attributes.get(jobs.sa.INTENT)
    if intent is None and (state := await jobs.intent_state(handle)) is not None:
        intent = state.intent
    if intent is None:
        raise ApiError(409, "NotAwaitingApproval", "this job does not take approvals", field="job_id", job_id=job_id)
    await refuse_self_approval(request, who, handle, desc)
    # The approver is the deciding key's name; what the body says about a person is only a note.
    decision = DecisionRequest(approver=who.name, reason=body.reason, note=body.note, fingerprint=body.fingerprint)
    try:
        recorded = await handle.execute_update(update, decision, result_type=Approval)
    except WorkflowUpdateFailedError as exc:
        reason = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        if getattr(exc.cause, "type", None) == ErrorType.APPROVAL_MISMATCH:
            raise ApiError(
                status_for(ErrorType.APPROVAL_MISMATCH), ErrorType.APPROVAL_MISMATCH, reason, field="fingerprint", job_id=job_id
            ) from None
        raise ApiError(409, "NotAwaitingApproval", reason, field="job_id", job_id=job_id) from None
    except RPCError as exc:
        if exc.status in OUTAGE_STATUSES:
            raise
        raise ApiError(409, "NotAwaitingApproval", f"this job is not awaiting approval ({exc.message})", field="job_id", job_id=job_id) from None
    spec = resolve_spec(intent)
    settings = request.app.state.settings
    mode = desc.typed_search_attributes.get(jobs.sa.MODE) or str(spec.mode)
    if update == "reject":
        recorded_body = DecisionRecorded(job_id=job_id, intent=intent, mode=mode, approval=recorded)
        return JSONResponse(recorded_body.model_dump(mode="json"), headers={"Location": f"/jobs/{job_id}"})
    return await answer(request, handle, spec, mode, {}, wait=settings.sync_timeout_s, replayed=False, decision=recorded)


async def refuse_self_approval(request: Request, who: Principal, handle, desc) -> None:
    """Separation of duties: a named key never decides on a job it requested (unless ALLOW_SELF_APPROVAL).
    The bootstrap API_KEY is exempt: it is the deployment's own root key, and a single-key `make dev`
    could otherwise approve nothing."""
    if who.bootstrap or request.app.state.settings.allow_self_approval:
        return
    requester = desc.typed_search_attributes.get(jobs.sa.REQUESTED_BY)
    if requester is None and (state := await jobs.intent_state(handle)) is not None and state.approval_request:
        requester = state.approval_request.requested_by
    if requester == who.name:
        raise ApiError(
            403,
            "SelfApproval",
            "this key requested the job, so it cannot decide on it: another approver must "
            "(separation of duties; ALLOW_SELF_APPROVAL=true turns this off)",
            field="job_id",
        )


_MISMATCH = (
    "NotAwaitingApproval: the job is not waiting for a decision (or already has one); "
    "ApprovalMismatch: `fingerprint` is not the job's (the request under review is not the one it runs). Nothing ran."
)


@router.post(
    "/jobs/{job_id}/approve",
    operation_id="approveJob",
    summary="Approve a job that awaits a human decision, then run it",
    responses={
        200: {"model": OrchestrateSuccess, "description": "Approved and finished: its result and the recorded `approval`."},
        202: {"model": OrchestrateAccepted, "description": "Approved and still running: the recorded `approval`; poll GET /jobs/{job_id}."},
        409: {"model": ErrorResponse, "description": _MISMATCH},
    },
    openapi_extra={"x-openai-isConsequential": True, JOB_OUTCOME: True},
)
async def approve_job(request: Request, who: Decides, job_id: str = JobId, decision: DecisionBody = Body(default_factory=DecisionBody)):
    return await _decide(request, who, job_id, "approve", decision)


@router.post(
    "/jobs/{job_id}/reject",
    operation_id="rejectJob",
    summary="Reject a job that awaits a human decision; nothing runs",
    response_model=DecisionRecorded,
    responses={409: {"model": ErrorResponse, "description": _MISMATCH}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def reject_job(request: Request, who: Decides, job_id: str = JobId, decision: DecisionBody = Body(default_factory=DecisionBody)):
    return await _decide(request, who, job_id, "reject", decision)


@router.post(
    "/jobs/{job_id}/cancel",
    operation_id="cancelJob",
    summary="Cancel a running job (its activities see the cancellation; one that cannot take it is terminated)",
    response_model=JobView,
    response_model_exclude_none=True,
    responses={409: {"model": ErrorResponse, "description": "JobClosed: the job has already ended."}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def cancel_job(request: Request, who: Cancels, job_id: str = JobId) -> JobView:
    client = await request.app.state.temporal.client()
    view = await jobs.job_view(client, job_id, who)
    if view.status not in (JobStatus.RUNNING, JobStatus.AWAITING_APPROVAL):
        raise ApiError(409, "JobClosed", f"the job is already {view.status}", field="job_id", job_id=job_id)
    await jobs.cancel_job(client, job_id, request.app.state.settings.cancel_grace_s)
    return view.model_copy(update={"status": JobStatus.RUNNING})
