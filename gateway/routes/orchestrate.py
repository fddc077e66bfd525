"""POST /orchestrate: one intent -> one durable IntentWorkflow run (idempotent by job ID)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from gateway import lifecycle, tenancy
from gateway.answers import intent_job_response
from gateway.auth import Runs
from gateway.errors import ApiError, rejected, validation_details
from gateway.lifecycle import JobKind
from gateway.metrics import count_job_started
from gateway.openapi import JOB_OUTCOME, ContractRoute
from gateway.schemas import (
    AwaitingApproval,
    ErrorResponse,
    OrchestrateAccepted,
    OrchestrateRequest,
    OrchestrateSuccess,
)
from infra import logs
from intents import canonical, registry
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
        raise ApiError(ErrorType.UNKNOWN_INTENT,
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
    raise ApiError(ErrorType.MODE_MISMATCH,
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
        raise ApiError(ErrorType.VALIDATION, f"{first['field']}: {first['reason']}", field=first["field"], details=details) from None
    if spec.precheck:
        try:
            spec.precheck(validated, settings)
        except RequestRejected as exc:
            # A precheck names the field within the intent's inputs; here they travel under `inputs`.
            raise rejected(exc, field=f"inputs.{exc.field}" if exc.field else "inputs") from None
    return validated


def precheck_callback(request: Request, url: str | None) -> None:
    """Hook for the callback URL policy (set on app.state by the app factory)."""
    check = getattr(request.app.state, "check_callback_url", None)
    if url is not None and check is not None:
        try:
            check(url)
        except Refusal as exc:
            raise ApiError(ErrorType.CALLBACK_URL_REJECTED, str(exc), field=exc.field or "callback_url") from None


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
    job_id = lifecycle.job_id_for(JobKind.INTENT, spec.name, inputs, idempotency_key, tenant=who.tenant)
    logs.bind(job_id=job_id, workflow_id=job_id, intent=spec.name)
    client = await request.app.state.temporal.client()
    req = IntentRequest(
        intent=spec.name, inputs=inputs, mode=mode, callback_url=body.callback_url,
        requested_by=who.name,
    )  # fmt: skip
    fingerprint = canonical.fingerprint(spec.name, inputs)
    handle, started = await lifecycle.start_or_attach(
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
        static_details=lifecycle.details_markdown(spec.name, str(mode), inputs),
        memo={"fingerprint": fingerprint},
        keyed_fingerprint=fingerprint if idempotency_key is not None else None,
        # Eager only for a caller that waits: an async job goes through the task queue, where the worker
        # takes work at its own pace (no burst of 202s floods the process that also serves them) and
        # tenants share the queue fairly.
        request_eager_start=request.app.state.eager_start and not body.async_,
    )
    if started:
        count_job_started(request, spec.name, str(mode))
    wait = 0.0 if body.async_ else settings.sync_timeout_s
    outcome = await lifecycle.wait_for_outcome(handle, wait, watch_approval=bool(spec.preflight_activity))
    return intent_job_response(
        outcome, job_id=job_id, intent=spec.name, mode=str(mode), inputs=inputs, replayed=not started,
        max_result_chars=settings.max_result_chars,
    )  # fmt: skip
