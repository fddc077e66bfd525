"""GET /jobs (search through Temporal visibility), GET /jobs/{id} (read from Temporal), approvals
(workflow updates) and cancel."""

from __future__ import annotations

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from config.api_keys import TENANT_NAME
from gateway import lifecycle, tenancy
from gateway.answers import cap_result, intent_job_response
from gateway.auth import Cancels, Decides, Principal, Reads
from gateway.calls import resolve_spec
from gateway.errors import OUTAGE_STATUSES, ApiError
from gateway.job_view import job_view
from gateway.openapi import JOB_OUTCOME, ContractRoute
from gateway.schemas import (
    DecisionRecorded,
    ErrorResponse,
    JobList,
    JobStatus,
    JobView,
    OrchestrateAccepted,
    OrchestrateSuccess,
)
from gateway.search import MAX_LIMIT, list_item, parse_filters, seal, token_key, unseal, visibility_query
from intents.approval import Approval, DecisionBody, DecisionRequest
from intents.errors import ErrorType
from workflows import search_attributes as sa

router = APIRouter(route_class=ContractRoute, tags=["jobs"])
JobId = Path(description="The job_id returned by POST /orchestrate.")


def search_scope(who: Principal, tenant: str | None) -> str | None:
    """The visibility clause that limits a search to what the caller may see: its tenant's jobs (admins:
    every tenant's, or the one asked for). The one place a search's scope is decided."""
    if tenant is not None and not TENANT_NAME.match(tenant):
        raise ApiError(ErrorType.VALIDATION, "tenant: must be a tenant name (a-z, 0-9, _ and -)", field="tenant")
    return tenancy.list_filter(who, tenant)


@router.get(
    "/jobs",
    operation_id="listJobs",
    summary="Find jobs by intent, status, who asked and when; newest first, a page at a time",
    response_model=JobList,
    response_model_exclude_none=True,
)
async def list_jobs(
    request: Request,
    who: Reads,
    intent: str | None = Query(default=None, max_length=200, description="e.g. memory.write"),
    status: str | None = Query(
        default=None, max_length=40, description="running, awaiting_approval, success, error, …"
    ),
    requested_by: str | None = Query(default=None, max_length=128, description="Who started it."),
    since: str | None = Query(default=None, max_length=64, description="Started at or after (ISO 8601)."),
    until: str | None = Query(default=None, max_length=64, description="Started at or before (ISO 8601)."),
    tenant: str | None = Query(
        default=None, max_length=63, description="Admin keys only: one tenant's jobs (default: all)."
    ),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    page_token: str | None = Query(default=None, max_length=4096, description="The previous page's next_page_token."),
) -> JobList:
    filters = parse_filters(intent, status, requested_by, since, until)
    query = visibility_query(filters, scope=search_scope(who, tenant))
    api_key = request.app.state.settings.api_key
    key = token_key(api_key.get_secret_value() if api_key is not None else None)
    position = unseal(page_token, query, key) if page_token else None
    client = await request.app.state.temporal.client()
    page = client.list_workflows(query, page_size=limit, next_page_token=position)
    await page.fetch_next_page()
    jobs = [await list_item(wf) for wf in page.current_page or []]
    return JobList(jobs=jobs, next_page_token=seal(page.next_page_token, query, key) if page.next_page_token else None)


@router.get(
    "/jobs/{job_id}",
    operation_id="getJob",
    summary="Read a job's status and result",
    response_model=JobView,
    response_model_exclude_none=True,
)
async def get_job(request: Request, who: Reads, job_id: str = JobId) -> JobView:
    client = await request.app.state.temporal.client()
    view = await job_view(client, job_id, who)
    view.result = cap_result(view.result, request.app.state.settings.max_result_chars)
    return view


async def _decide(request: Request, who: Principal, job_id: str, update: str, body: DecisionBody):
    client = await request.app.state.temporal.client()
    handle, desc = await lifecycle.describe(client, job_id, who)
    if desc.workflow_type != "IntentWorkflow":
        raise ApiError(
            ErrorType.NOT_AWAITING_APPROVAL, "this job does not take approvals", field="job_id", job_id=job_id
        )
    # Top-level jobs and GPT workflow steps carry `Intent`; a step started before it did answers its state query.
    intent = desc.typed_search_attributes.get(sa.INTENT)
    if intent is None and (state := await lifecycle.intent_state(handle)) is not None:
        intent = state.intent
    if intent is None:
        raise ApiError(
            ErrorType.NOT_AWAITING_APPROVAL, "this job does not take approvals", field="job_id", job_id=job_id
        )
    await refuse_self_approval(request, who, handle, desc)
    # The approver is the deciding key's name; what the body says about a person is only a note.
    decision = DecisionRequest(approver=who.name, reason=body.reason, note=body.note, fingerprint=body.fingerprint)
    try:
        recorded = await handle.execute_update(update, decision, result_type=Approval)
    except WorkflowUpdateFailedError as exc:
        reason = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        if getattr(exc.cause, "type", None) == ErrorType.APPROVAL_MISMATCH:
            raise ApiError(ErrorType.APPROVAL_MISMATCH, reason, field="fingerprint", job_id=job_id) from None
        raise ApiError(ErrorType.NOT_AWAITING_APPROVAL, reason, field="job_id", job_id=job_id) from None
    except RPCError as exc:
        if exc.status in OUTAGE_STATUSES:
            raise
        raise ApiError(
            ErrorType.NOT_AWAITING_APPROVAL,
            f"this job is not awaiting approval ({exc.message})",
            field="job_id",
            job_id=job_id,
        ) from None
    spec = resolve_spec(intent)
    settings = request.app.state.settings
    mode = desc.typed_search_attributes.get(sa.MODE) or str(spec.mode)
    if update == "reject":
        answer = DecisionRecorded(job_id=job_id, intent=intent, mode=mode, approval=recorded)
        return JSONResponse(answer.model_dump(mode="json"), headers={"Location": f"/jobs/{job_id}"})
    outcome = await lifecycle.wait_for_outcome(
        handle, settings.sync_timeout_s, watch_approval=bool(spec.preflight_activity)
    )
    return intent_job_response(
        outcome, job_id=job_id, intent=intent, mode=mode, inputs={}, replayed=False,
        max_result_chars=settings.max_result_chars, decision=recorded,
    )  # fmt: skip


async def refuse_self_approval(request: Request, who: Principal, handle, desc) -> None:
    """Separation of duties: no key decides on a job it requested, the bootstrap API_KEY included, unless
    the deployment allows it (ALLOW_SELF_APPROVAL). Fail closed: a root key handed to a GPT must not be
    able to approve its own `rm -rf`."""
    if request.app.state.settings.allow_self_approval:
        return
    requester = desc.typed_search_attributes.get(sa.REQUESTED_BY)
    if requester is None and (state := await lifecycle.intent_state(handle)) is not None and state.approval_request:
        requester = state.approval_request.requested_by
    if requester == who.name:
        raise ApiError(
            ErrorType.SELF_APPROVAL,
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
        200: {
            "model": OrchestrateSuccess,
            "description": "Approved and finished: its result and the recorded `approval`.",
        },
        202: {
            "model": OrchestrateAccepted,
            "description": "Approved and still running: the recorded `approval`; poll GET /jobs/{job_id}.",
        },
        409: {"model": ErrorResponse, "description": _MISMATCH},
    },
    openapi_extra={"x-openai-isConsequential": True, JOB_OUTCOME: True},
)
async def approve_job(
    request: Request, who: Decides, job_id: str = JobId, decision: DecisionBody = Body(default_factory=DecisionBody)
):
    return await _decide(request, who, job_id, "approve", decision)


@router.post(
    "/jobs/{job_id}/reject",
    operation_id="rejectJob",
    summary="Reject a job that awaits a human decision; nothing runs",
    response_model=DecisionRecorded,
    responses={409: {"model": ErrorResponse, "description": _MISMATCH}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def reject_job(
    request: Request, who: Decides, job_id: str = JobId, decision: DecisionBody = Body(default_factory=DecisionBody)
):
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
    view = await job_view(client, job_id, who)
    if view.status not in (JobStatus.RUNNING, JobStatus.AWAITING_APPROVAL):
        raise ApiError(ErrorType.JOB_CLOSED, f"the job is already {view.status}", field="job_id", job_id=job_id)
    await lifecycle.cancel_job(client, job_id, request.app.state.settings.cancel_grace_s)
    return view.model_copy(update={"status": JobStatus.RUNNING})
