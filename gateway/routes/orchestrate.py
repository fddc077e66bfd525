"""POST /orchestrate: one intent -> one durable IntentWorkflow run (idempotent by job ID)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from gateway import calls, lifecycle
from gateway.answers import intent_job_response
from gateway.auth import Runs
from gateway.openapi import JOB_OUTCOME, ContractRoute
from gateway.schemas import (
    AwaitingApproval,
    ErrorResponse,
    OrchestrateAccepted,
    OrchestrateRequest,
    OrchestrateSuccess,
)

router = APIRouter(route_class=ContractRoute, tags=["orchestrate"])


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
    job = await calls.start_intent(
        request.app.state, who, body.intent, body.inputs, mode=body.mode, callback_url=body.callback_url,
        # Eager only for a caller that waits: an async job goes through the task queue, where the worker
        # takes work at its own pace and tenants share the queue fairly.
        idempotency_key=idempotency_key, eager_start=not body.async_,
    )  # fmt: skip
    wait = 0.0 if body.async_ else settings.sync_timeout_s
    outcome = await lifecycle.wait_for_outcome(job.handle, wait, watch_approval=bool(job.spec.preflight_activity))
    return intent_job_response(
        outcome, job_id=job.job_id, intent=job.spec.name, mode=str(job.mode), inputs=job.inputs, replayed=not job.started,
        max_result_chars=settings.max_result_chars,
    )  # fmt: skip
