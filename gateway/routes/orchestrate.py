"""POST /orchestrate: one intent -> one durable IntentWorkflow run (idempotent by job ID)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from gateway import jobs, tenancy
from gateway.auth import Runs
from gateway.errors import ApiError, status_for, validation_details
from gateway.metrics import count_job_started
from gateway.openapi import JOB_OUTCOME, ContractRoute
from gateway.schemas import (
    AwaitingApproval,
    ErrorResponse,
    JobStatus,
    OrchestrateAccepted,
    OrchestrateRequest,
    OrchestrateSuccess,
)
from infra import logs
from intents import canonical, registry
from intents.approval import Approval
from intents.errors import ErrorType
from intents.routing import RoutingTable
from intents.spec import IntentSpec, Mode, RequestedMode, RequestRejected
from policies.refusal import Refusal
from workflows import search_attributes as sa
from workflows.intent import IntentWorkflow
from workflows.models import IntentRequest

router = APIRouter(route_class=ContractRoute, tags=["orchestrate"])


def resolve_spec(intent: str) -> IntentSpec:
    try:
        return registry.get(intent)
    except registry.UnknownIntentError as exc:
        hint = f" Did you mean {', '.join(exc.suggestions)}?" if exc.suggestions else ""
        raise ApiError(
            400,
            ErrorType.UNKNOWN_INTENT,
            # The name sent is not repeated (nothing a client sends is echoed); the suggestions are registry names.
            f"unknown intent.{hint} Known intents: {', '.join(exc.known)}",
            field="intent",
            details={"known": exc.known, "did_you_mean": exc.suggestions},
        ) from None


async def resolve_intent(request: Request, intent: str) -> IntentSpec:
    """The intent's spec; an unknown `mcp.*` name first re-reads the MCP catalog (the tool may be new)."""
    if intent not in registry.names():
        await request.app.state.mcp_catalog.refresh_for(intent)
    return resolve_spec(intent)


def resolve_mode(spec: IntentSpec, requested: RequestedMode, table: RoutingTable) -> Mode:
    """Auto routing picks the intent's engine: its route in the table, which the spec's own mode agrees
    with (checked at registration and start-up). An explicit mode must be that engine: it holds the
    intent's only handler."""
    mode = spec.mode
    if requested == RequestedMode.AUTO or requested.value == mode.value:
        return mode
    raise ApiError(
        400,
        ErrorType.MODE_MISMATCH,
        f"{table.explain(spec)}; it has no {requested} handler. Send mode 'auto' (or '{mode}').",
        field="mode",
        details={"requested": str(requested), "resolved": str(mode), "route": getattr(table.route_for(spec.name), "pattern", None)},
    )


def validate(spec: IntentSpec, inputs: dict[str, Any], settings):
    try:
        validated = registry.validate_inputs(spec, inputs)
    except ValidationError as exc:
        details = validation_details(exc.errors(), prefix="inputs.")
        first = details[0]
        raise ApiError(422, ErrorType.VALIDATION, f"{first['field']}: {first['reason']}", field=first["field"], details=details) from None
    if spec.precheck:
        try:
            spec.precheck(validated, settings)
        except RequestRejected as exc:
            raise ApiError(400, exc.error_type, str(exc), field=exc.field, details=exc.details) from None
    return validated


def precheck_callback(request: Request, url: str | None) -> None:
    """Hook for the callback URL policy (set on app.state by the app factory)."""
    check = getattr(request.app.state, "check_callback_url", None)
    if url is not None and check is not None:
        try:
            check(url)
        except Refusal as exc:
            raise ApiError(400, ErrorType.CALLBACK_URL_REJECTED, str(exc), field=exc.field or "callback_url") from None


def _success(job_id: str, outcome: Any, limit: int) -> dict[str, Any]:
    if isinstance(outcome, BaseModel):  # typed handle from start; attached handles give plain JSON
        outcome = outcome.model_dump(mode="json")
    body = OrchestrateSuccess(
        job_id=job_id,
        intent=outcome["intent"],
        mode=outcome["mode"],
        result=jobs.cap_result(outcome.get("result"), limit),
        duration_ms=outcome.get("duration_ms", 0),
    )
    return body.model_dump(mode="json", exclude={"approval"})


async def answer(
    request: Request,
    handle,
    spec: IntentSpec,
    mode: str,
    inputs: dict[str, Any],
    *,
    wait: float,
    replayed: bool,
    decision: Approval | None = None,
):
    """Shared by /orchestrate and the approval routes: wait up to `wait`, then 200 / 202 / 4xx-5xx.
    After a decision (`decision`), every answer carries it as `approval`."""
    settings = request.app.state.settings
    job_id = handle.id
    headers = {"Location": f"/jobs/{job_id}"} | ({"Idempotent-Replayed": "true"} if replayed else {})
    extra = {"approval": decision.model_dump(mode="json")} if decision is not None else {}
    kind, value = await jobs.wait_for_outcome(handle, wait, watch_approval=bool(spec.preflight_activity)) if wait > 0 else ("pending", None)
    if kind == "done":
        return JSONResponse(_success(job_id, value, settings.max_result_chars) | extra, headers=headers)
    if kind == "failed":
        status, error = jobs.failure_info(value)
        http = 409 if status in (JobStatus.CANCELLED, JobStatus.TERMINATED, JobStatus.REJECTED, JobStatus.EXPIRED) else status_for(error.type)
        body = ErrorResponse(job_id=job_id, error=error).model_dump(mode="json", exclude_none=True)
        body["job_status"] = status
        return JSONResponse(body | extra, status_code=http, headers=headers)
    if kind == "awaiting":
        body = AwaitingApproval(
            job_id=job_id, intent=spec.name, mode=mode, host=inputs.get("host"), command=inputs.get("command"),
            risk=value.risks, expires_at=value.expires_at, approval_request=value.approval_request,
        )  # fmt: skip
        return JSONResponse(body.model_dump(mode="json") | extra, status_code=202, headers=headers)
    body = OrchestrateAccepted(job_id=job_id, intent=spec.name, mode=mode)
    return JSONResponse(body.model_dump(mode="json", exclude={"approval"}) | extra, status_code=202, headers=headers)


@router.post(
    "/orchestrate",
    operation_id="orchestrate",
    summary="Run an intent (memory.write, gmail.triage, mcp.<server>.<tool>, ...) durably",
    # Not consequential as an operation: consequential intents preview first (dry runs) and risky
    # ones wait for a human approval (approveJob, which is consequential).
    # x-job-outcome: the answer may be the job's own failure (gateway/openapi.py documents those statuses).
    openapi_extra={"x-openai-isConsequential": False, JOB_OUTCOME: True},
    responses={
        200: {"model": OrchestrateSuccess, "description": "Finished within the sync timeout."},
        202: {"model": OrchestrateAccepted | AwaitingApproval,
              "description": "Still running, or awaiting approval (then `approval_request` says exactly what to approve): "
                             "poll GET /jobs/{job_id}."},
        400: {"model": ErrorResponse,
              "description": "UnknownIntent (lists the known ones), ModeMismatch, InvalidIdempotencyKey, a request that is "
                             "well-formed but not allowed (UnknownHost, UnsafeCommand, CallbackUrlRejected)."},
        409: {"model": ErrorResponse,
              "description": "IdempotencyKeyReused: the Idempotency-Key already names a job with other inputs "
                             "(whatever that job's state); or the job ended rejected/expired/cancelled."},
    },
)  # fmt: skip
async def orchestrate(
    body: OrchestrateRequest,
    request: Request,
    who: Runs,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    settings = request.app.state.settings
    spec = await resolve_intent(request, body.intent)
    mode = resolve_mode(spec, body.mode, request.app.state.routes)
    validated = validate(spec, body.inputs, settings)
    precheck_callback(request, body.callback_url)
    inputs = validated.model_dump(mode="json")
    job_id = jobs.job_id_for(spec.name, inputs, idempotency_key, tenant=who.tenant)
    logs.bind(job_id=job_id, workflow_id=job_id, intent=spec.name)
    client = await request.app.state.temporal.client()
    req = IntentRequest(
        intent=spec.name, inputs=inputs, mode=mode, callback_url=body.callback_url,
        requested_by=who.name,
    )  # fmt: skip
    fingerprint = canonical.fingerprint(spec.name, inputs)
    handle, started = await jobs.start_or_attach(
        client,
        IntentWorkflow.run,
        req,
        job_id=job_id,
        fresh_after_close=spec.read_only and idempotency_key is None,
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every job ends
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(sa.INTENT, spec.name), SearchAttributePair(sa.MODE, str(mode)), *tenancy.stamp(who)]
        ),
        priority=tenancy.priority(who),  # tenants share the task queue fairly
        static_summary=spec.summary_for(validated),
        static_details=jobs.details_markdown(spec.name, str(mode), inputs),
        memo={"fingerprint": fingerprint},
        keyed_fingerprint=fingerprint if idempotency_key is not None else None,
        request_eager_start=request.app.state.eager_start,
    )
    if started:
        count_job_started(request, spec.name, str(mode))
    wait = 0.0 if body.async_ else settings.sync_timeout_s
    return await answer(request, handle, spec, str(mode), inputs, wait=wait, replayed=not started)
