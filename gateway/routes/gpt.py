"""The seed's GPT orchestration endpoints, durable: /api/gpt-workflows*, /api/gpt-agents, /api/gpt-fleets*.

A created workflow is a Temporal workflow waiting for its `execute` update: the definition is stored
in Temporal, not here. Listing reads Temporal visibility (search attribute GptWorkflowName).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from config.api_keys import TENANT_NAME
from gateway import lifecycle, tenancy
from gateway.answers import as_json, cap_result, failure_response, job_headers
from gateway.auth import Cancels, Principal, Reads, Runs
from gateway.errors import OUTAGE_STATUSES, ApiError, rejected
from gateway.job_view import with_step_approvals
from gateway.lifecycle import JOB_STATUS, JobKind, OutcomeKind
from gateway.openapi import ContractRoute
from gateway.schemas import ErrorResponse, FleetAccepted, JobStatus
from intents.canonical import canonical_json, sha256
from intents.errors import ErrorType
from intents.fleets import FleetMembers, FleetRequest, FleetResult, FleetRun
from intents.gpt_definitions import GptWorkflowDefinition
from intents.orchestration import agents_for, check_definition, check_fleet
from intents.spec import RequestRejected
from intents.text import quote_short, truncate_utf8
from workflows import search_attributes as sa
from workflows.fleet import FleetWorkflow
from workflows.gpt import GptRunState, GptWorkflow, GptWorkflowInput, GptWorkflowStatus

router = APIRouter(route_class=ContractRoute, tags=["gpt"])
WorkflowId = Path(description="The workflow_id returned by create.")
EXECUTE_RPC_TIMEOUT = timedelta(seconds=10)
Wait = Query(default=None, ge=0, le=60, description="Seconds to wait for the result (default: SYNC_TIMEOUT_S).")


class CreatedWorkflow(BaseModel):
    workflow_id: str
    name: str
    state: GptRunState
    steps: list[str] = Field(description="Step ids in run order.")


class WorkflowListItem(BaseModel):
    workflow_id: str
    name: str | None
    state: str
    started_at: Any = None
    closed_at: Any = None


class FleetOrchestrateBody(BaseModel):
    objective: str = Field(min_length=1, max_length=20_000)
    parallel: bool = True
    synthesize: str | None = Field(default=None, max_length=80, description="Lead agent that merges the outputs.")
    timeout_s: float = Field(default=120, ge=1, le=3600, description="Per-agent time limit (seconds, 1 to 3600).")


# A GPT workflow's state once Temporal has closed it (also when it was stopped from outside and never said so).
GPT_STATE_BY_JOB_STATUS = {
    JobStatus.SUCCESS: GptRunState.SUCCEEDED,
    JobStatus.ERROR: GptRunState.FAILED,
    JobStatus.CANCELLED: GptRunState.CANCELLED,
    JobStatus.TERMINATED: GptRunState.TERMINATED,
    JobStatus.TIMED_OUT: GptRunState.TIMED_OUT,
}


def closed_state(desc) -> GptRunState | None:
    """None while the run is open (then the workflow itself says created or running)."""
    return GPT_STATE_BY_JOB_STATUS.get(JOB_STATUS.get(desc.status)) if desc.status else None  # type: ignore[arg-type]


async def _gpt_workflow(request: Request, who: Principal, workflow_id: str) -> lifecycle.DescribedJob:
    client = await request.app.state.temporal.client()
    found = await lifecycle.describe(client, workflow_id, who)  # another tenant's: the same 404 as none
    if found.description.workflow_type != "GptWorkflow":
        raise ApiError(ErrorType.NOT_FOUND, "no such GPT workflow", field="workflow_id")
    return found


async def _status(request: Request, who: Principal, workflow_id: str) -> GptWorkflowStatus:
    handle, desc = await _gpt_workflow(request, who, workflow_id)
    try:
        status = await handle.query(GptWorkflow.status)
    except Exception as exc:  # no worker to answer: say so rather than guess
        raise ApiError(ErrorType.WORKER_UNAVAILABLE, "no worker answered the status query; is a worker running?") from exc
    if (closed := closed_state(desc)) is not None:
        status.state = closed  # terminated or timed out from outside: the run never said so itself
    return await with_step_approvals(await request.app.state.temporal.client(), status)


@router.post(
    "/api/gpt-workflows/create",
    operation_id="createGptWorkflow",
    summary="Create (validate and durably store) a multi-step GPT workflow",
    status_code=201,
    response_model=CreatedWorkflow,
    responses={
        400: {"model": ErrorResponse},
        409: {"model": ErrorResponse, "description": "IdempotencyKeyReused: the key already names another definition."},
        422: {"model": ErrorResponse},
    },
    openapi_extra={"x-openai-isConsequential": False},
)
async def create_workflow(
    request: Request,
    who: Runs,
    definition: GptWorkflowDefinition,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> CreatedWorkflow:
    settings = request.app.state.settings
    try:
        order = check_definition(definition, settings)
    except RequestRejected as exc:
        raise rejected(exc) from None
    client = await request.app.state.temporal.client()
    workflow_id = lifecycle.job_id_for(JobKind.GPT_WORKFLOW, "gpt.workflow", None, idempotency_key, tenant=who.tenant)
    kind = "parallel" if definition.parallel else "sequential"
    # The workflow upserts its name (and agents) itself, for runs started as children; setting the name
    # at start too keeps a created workflow listable by name before any worker has picked it up.
    await lifecycle.start_or_attach(
        client,
        GptWorkflow.run,
        GptWorkflowInput(definition=definition, requested_by=who.name),
        job_id=workflow_id,
        keyed_fingerprint=sha256(canonical_json(definition.model_dump(mode="json"))) if idempotency_key else None,
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every job ends
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.GPT_WORKFLOW_NAME, definition.name[:200]),
                SearchAttributePair(sa.INTENT, "gpt.workflow"),
                *tenancy.stamp(who),
            ]
        ),
        priority=tenancy.priority(who),
        static_summary=truncate_utf8(f"GPT workflow {quote_short(definition.name)}: {len(definition.steps)} steps, {kind}", 200),
        static_details=lifecycle.details_markdown("gpt.workflow", "agent", definition.model_dump(mode="json")),
        memo={"state": "created"},
    )
    return CreatedWorkflow(workflow_id=workflow_id, name=definition.name, state=GptRunState.CREATED, steps=order)


@router.post(
    "/api/gpt-workflows/{workflow_id}/execute",
    operation_id="executeGptWorkflow",
    summary="Execute a created GPT workflow; waits up to `wait` seconds for the result",
    response_model=GptWorkflowStatus,
    responses={202: {"model": GptWorkflowStatus}, 404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def execute_workflow(request: Request, who: Runs, workflow_id: str = WorkflowId, wait: float | None = Wait):
    client = await request.app.state.temporal.client()
    handle, _ = await _gpt_workflow(request, who, workflow_id)
    try:
        # A healthy run takes the update in well under a second; one that cannot (no worker, a failing
        # workflow task) gets a 503 after this long instead of holding the request.
        await handle.execute_update(GptWorkflow.execute, rpc_timeout=EXECUTE_RPC_TIMEOUT)  # type: ignore[unused-coroutine]
    except WorkflowUpdateFailedError as exc:
        raise ApiError(ErrorType.ALREADY_EXECUTED, lifecycle.failure_message(exc), field="workflow_id") from None
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        if isinstance(exc, RPCError) and exc.status in OUTAGE_STATUSES:
            raise
        _, now = await lifecycle.describe(client, workflow_id)
        if not lifecycle.is_open(now):
            state = closed_state(now) or "closed"
            raise ApiError(ErrorType.WORKFLOW_CLOSED, f"the workflow is already {state}", field="workflow_id") from None
        raise ApiError(ErrorType.WORKFLOW_UNRESPONSIVE, f"the workflow is open but did not take the execute request ({getattr(exc, 'message', None) or exc})",
            field="workflow_id",
        ) from None
    seconds = request.app.state.settings.sync_timeout_s if wait is None else wait
    outcome = await lifecycle.wait_for_outcome(handle, seconds)
    status = await _status(request, who, workflow_id)
    return JSONResponse(status.model_dump(mode="json"), status_code=202 if outcome.kind == OutcomeKind.PENDING else 200)


@router.get(
    "/api/gpt-workflows/{workflow_id}",
    operation_id="getGptWorkflow",
    summary="A GPT workflow's state and every step's state, times and output",
    response_model=GptWorkflowStatus,
    responses={404: {"model": ErrorResponse}},
)
async def get_workflow(request: Request, who: Reads, workflow_id: str = WorkflowId) -> GptWorkflowStatus:
    status = await _status(request, who, workflow_id)
    for step in status.steps:
        step.output = cap_result(step.output, request.app.state.settings.max_result_chars // max(len(status.steps), 1))
    return status


_STATE_QUERY = {
    "created": "ExecutionStatus='Running'",
    "running": "ExecutionStatus='Running'",
    "succeeded": "ExecutionStatus='Completed'",
    "failed": "ExecutionStatus='Failed'",
    "cancelled": "ExecutionStatus='Canceled'",
    "terminated": "ExecutionStatus='Terminated'",
}


@router.get(
    "/api/gpt-workflows",
    operation_id="listGptWorkflows",
    summary="List GPT workflows, newest first, filtered by state and/or exact name",
    response_model=list[WorkflowListItem],
)
async def list_workflows(
    request: Request,
    who: Reads,
    status: str | None = Query(default=None, description="created|running|succeeded|failed|cancelled|terminated"),
    name: str | None = Query(default=None, max_length=200, description="Exact workflow name."),
    limit: int = Query(default=50, ge=1, le=200),
    tenant: str | None = Query(
        default=None, pattern=TENANT_NAME.pattern, description="Admin keys only: one tenant's workflows (default: every tenant's)."
    ),
) -> list[WorkflowListItem]:
    if status is not None and status not in _STATE_QUERY:
        raise ApiError(ErrorType.VALIDATION, f"status must be one of {', '.join(_STATE_QUERY)}", field="status")
    query = "WorkflowType='GptWorkflow'"
    if (mine := tenancy.list_filter(who, tenant)) is not None:  # the key's tenant (admins: every, or the one asked for)
        query += " AND " + mine
    if name is not None:
        query += " AND GptWorkflowName=" + _quote(name)
    if status is not None:
        query += " AND " + _STATE_QUERY[status]
    client = await request.app.state.temporal.client()
    items: list[WorkflowListItem] = []
    async for wf in client.list_workflows(query, limit=limit * 2 if status in ("created", "running") else limit):
        # Closed: Temporal's status says it all. Running: the workflow keeps created/running in its memo.
        state = closed_state(wf) or (await wf.memo()).get("state", "running")
        if status in ("created", "running") and state != status:
            continue
        items.append(WorkflowListItem(
            workflow_id=wf.id, name=wf.typed_search_attributes.get(sa.GPT_WORKFLOW_NAME), state=state,
            started_at=wf.start_time, closed_at=wf.close_time,
        ))  # fmt: skip
        if len(items) >= limit:
            break
    return items


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@router.post(
    "/api/gpt-workflows/{workflow_id}/cancel",
    operation_id="cancelGptWorkflow",
    summary="Cancel a GPT workflow; running steps are cancelled, the rest do not run",
    status_code=202,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def cancel_workflow(request: Request, who: Cancels, workflow_id: str = WorkflowId) -> dict:
    # Read from Temporal, not the status query: a run that cannot answer queries must still be cancellable.
    client = await request.app.state.temporal.client()
    _, desc = await _gpt_workflow(request, who, workflow_id)
    if not lifecycle.is_open(desc):
        raise ApiError(ErrorType.WORKFLOW_CLOSED, f"the workflow is already {closed_state(desc) or 'closed'}", field="workflow_id")
    await lifecycle.cancel_job(client, workflow_id, request.app.state.settings.cancel_grace_s)
    return {"workflow_id": workflow_id, "state": "cancelling"}


@router.get("/api/gpt-agents", operation_id="listGptAgents", summary="The named GPT agents, with fleet and model")
async def list_agents(request: Request, who: Reads) -> dict:
    settings = request.app.state.settings
    return {"agents": agents_for(settings).list_agents(settings)}


@router.get("/api/gpt-fleets", operation_id="listGptFleets", summary="Fleets (agent categories) and their members")
async def list_fleets(request: Request, who: Reads) -> dict:
    return {"fleets": agents_for(request.app.state.settings).list_fleets()}


@router.post(
    "/api/gpt-fleets/{category}/orchestrate",
    operation_id="orchestrateFleet",
    summary="Give one objective to every agent of a fleet; results per agent, optional synthesis",
    response_model=FleetResult,
    responses={
        202: {"model": FleetAccepted, "description": "Still running: poll GET /jobs/{workflow_id}."},
        400: {"model": ErrorResponse},
        409: {"model": ErrorResponse, "description": "IdempotencyKeyReused: the key already names another request; or it failed."},
    },
    openapi_extra={"x-openai-isConsequential": False},
)
async def orchestrate_fleet(
    request: Request,
    who: Runs,
    category: str = Path(max_length=80),
    body: FleetOrchestrateBody = Body(),
    wait: float | None = Wait,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    settings = request.app.state.settings
    req = FleetRequest(category=category, **body.model_dump())
    try:
        check_fleet(req, settings)
    except RequestRejected as exc:
        raise rejected(exc) from None
    members = agents_for(settings).fleet(category)
    canonical = members[0].category
    req = req.model_copy(update={"category": canonical})
    material = canonical_json(req.model_dump(mode="json"))
    workflow_id = lifecycle.job_id_for(
        JobKind.FLEET, "fleet.orchestrate", req.model_dump(mode="json"), idempotency_key, tenant=who.tenant
    )
    client = await request.app.state.temporal.client()
    handle, started = await lifecycle.start_or_attach(
        client,
        FleetWorkflow.run,
        # Members resolved here travel in the input (so in history): the run needs no lookup of its own.
        FleetRun(request=req, members=FleetMembers(category=canonical, agents=[a.name for a in members])),
        job_id=workflow_id,
        keyed_fingerprint=sha256(material) if idempotency_key else None,
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every job ends
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(sa.FLEET, canonical), SearchAttributePair(sa.INTENT, "fleet.orchestrate"), *tenancy.stamp(who)]
        ),
        priority=tenancy.priority(who),
        static_summary=truncate_utf8(f"Fleet {canonical}: {req.objective}", 200),
        static_details=lifecycle.details_markdown("fleet.orchestrate", "agent", req.model_dump(mode="json")),
    )
    seconds = settings.sync_timeout_s if wait is None else wait
    outcome = await lifecycle.wait_for_outcome(handle, seconds)
    headers = job_headers(workflow_id, replayed=not started)
    if outcome.kind == OutcomeKind.DONE:
        return JSONResponse(as_json(outcome.value) | {"workflow_id": workflow_id}, headers=headers)
    if outcome.kind == OutcomeKind.FAILED:
        return failure_response(workflow_id, outcome.value, headers)
    return JSONResponse({"status": "accepted", "workflow_id": workflow_id, "category": canonical}, status_code=202, headers=headers)
