"""The seed's GPT orchestration endpoints, durable: /api/gpt-workflows*, /api/gpt-agents, /api/gpt-fleets*.

A created workflow is a Temporal workflow waiting for its `execute` update: the definition is stored
in Temporal, not here. Listing reads Temporal visibility (search attribute GptWorkflowName).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from config.api_keys import TENANT_NAME
from gateway import calls, lifecycle, tenancy
from gateway.answers import as_json, cap_result, failure_response, job_headers
from gateway.auth import Cancels, Principal, Reads, Runs
from gateway.errors import ApiError
from gateway.lifecycle import OutcomeKind
from gateway.openapi import ContractRoute
from gateway.schemas import ErrorResponse, FleetAccepted
from intents.errors import ErrorType
from intents.fleets import FleetRequest, FleetResult
from intents.gpt_definitions import GptWorkflowDefinition
from intents.orchestration import agents_for
from workflows import search_attributes as sa
from workflows.gpt import GptRunState, GptWorkflowStatus

router = APIRouter(route_class=ContractRoute, tags=["gpt"])
WorkflowId = Path(description="The workflow_id returned by create.")
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
    remember: bool = Field(default=False, description="Store each answer as a memory (tag `fleet:<workflow_id>`).")


closed_state = calls.closed_state


async def _gpt_workflow(request: Request, who: Principal, workflow_id: str) -> lifecycle.DescribedJob:
    return await calls.gpt_workflow(request.app.state, who, workflow_id)


async def _status(request: Request, who: Principal, workflow_id: str) -> GptWorkflowStatus:
    return await calls.gpt_status(request.app.state, who, workflow_id)


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
    created = await calls.create_gpt_workflow(request.app.state, who, definition, idempotency_key)
    return CreatedWorkflow(workflow_id=created.workflow_id, name=created.name, state=created.state, steps=created.steps)


@router.post(
    "/api/gpt-workflows/{workflow_id}/execute",
    operation_id="executeGptWorkflow",
    summary="Execute a created GPT workflow; waits up to `wait` seconds for the result",
    response_model=GptWorkflowStatus,
    responses={202: {"model": GptWorkflowStatus}, 404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    openapi_extra={"x-openai-isConsequential": True},
)
async def execute_workflow(request: Request, who: Runs, workflow_id: str = WorkflowId, wait: float | None = Wait):
    handle = await calls.execute_gpt_workflow(request.app.state, who, workflow_id)
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
        default=None,
        pattern=TENANT_NAME.pattern,
        description="Admin keys only: one tenant's workflows (default: every tenant's).",
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
        raise ApiError(
            ErrorType.WORKFLOW_CLOSED, f"the workflow is already {closed_state(desc) or 'closed'}", field="workflow_id"
        )
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
        409: {
            "model": ErrorResponse,
            "description": "IdempotencyKeyReused: the key already names another request; or it failed.",
        },
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
    job = await calls.start_fleet(
        request.app.state, who, FleetRequest(category=category, **body.model_dump()), idempotency_key
    )
    handle, started, workflow_id, canonical = job.handle, job.started, job.workflow_id, job.category
    seconds = settings.sync_timeout_s if wait is None else wait
    outcome = await lifecycle.wait_for_outcome(handle, seconds)
    headers = job_headers(workflow_id, replayed=not started)
    if outcome.kind == OutcomeKind.DONE:
        return JSONResponse(as_json(outcome.value) | {"workflow_id": workflow_id}, headers=headers)
    if outcome.kind == OutcomeKind.FAILED:
        return failure_response(workflow_id, outcome.value, headers)
    return JSONResponse(
        {"status": "accepted", "workflow_id": workflow_id, "category": canonical}, status_code=202, headers=headers
    )
