"""What a caller can ask for, started one way whichever door it came in by: the HTTP routes
(/orchestrate, /api/gpt-workflows, /api/gpt-fleets) and the MCP tools on /mcp call these functions.

Each takes the app's state (`app.state`: settings, the Temporal link, the routing table, the MCP catalog),
the admitted Principal and the validated request; it validates what the registry says, makes the job ID,
and starts or attaches. Waiting (gateway/lifecycle.py) and answering (gateway/answers.py over HTTP,
gateway/mcp_server.py over MCP) are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from gateway import lifecycle, tenancy
from gateway.auth import Principal
from gateway.errors import OUTAGE_STATUSES, ApiError, rejected, validation_details
from gateway.job_view import with_step_approvals
from gateway.lifecycle import JobKind
from gateway.schemas import JobStatus
from infra import logs
from intents import canonical, registry
from intents.canonical import canonical_json, sha256
from intents.errors import ErrorType
from intents.fleets import FleetMembers, FleetRequest, FleetRun
from intents.gpt_definitions import GptWorkflowDefinition
from intents.orchestration import agents_for, check_definition, check_fleet
from intents.routing import RoutingTable
from intents.spec import IntentSpec, Mode, RequestedMode, RequestRejected
from intents.text import quote_short, truncate_utf8
from policies.refusal import Refusal
from workflows import search_attributes as sa
from workflows.fleet import FleetWorkflow
from workflows.gpt import GptRunState, GptWorkflow, GptWorkflowInput, GptWorkflowStatus
from workflows.intent import IntentWorkflow
from workflows.models import IntentRequest

EXECUTE_RPC_TIMEOUT = timedelta(seconds=10)


# --- intents ----------------------------------------------------------------------------------


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
        ) from None  # fmt: skip


async def resolve_intent(state: Any, intent: str) -> IntentSpec:
    """The intent's spec; an unknown `mcp.*` name first re-reads the MCP catalog (the tool may be new)."""
    if not registry.known(intent):
        await state.mcp_catalog.refresh_for(intent)
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
    )  # fmt: skip


def validate(spec: IntentSpec, inputs: dict[str, Any], settings, *, prefix: str = "inputs.") -> BaseModel:
    """The intent's input model, then its precheck; errors name the field (under `prefix`)."""
    try:
        validated = registry.validate_inputs(spec, inputs)
    except ValidationError as exc:
        details = validation_details(exc.errors(), prefix=prefix)
        first = details[0]
        raise ApiError(
            ErrorType.VALIDATION, f"{first['field']}: {first['reason']}", field=first["field"], details=details
        ) from None
    if spec.precheck:
        try:
            spec.precheck(validated, settings)
        except RequestRejected as exc:
            # A precheck names the field within the intent's inputs; here they travel under `prefix`.
            raise rejected(exc, field=f"{prefix}{exc.field}" if exc.field else prefix.rstrip(".") or None) from None
    return validated


def check_callback(state: Any, url: str | None) -> None:
    check = getattr(state, "check_callback_url", None)
    if url is not None and check is not None:
        try:
            check(url)
        except Refusal as exc:
            raise ApiError(ErrorType.CALLBACK_URL_REJECTED, str(exc), field=exc.field or "callback_url") from None


@dataclass
class IntentJob:
    spec: IntentSpec
    mode: Mode
    inputs: dict[str, Any]
    job_id: str
    handle: WorkflowHandle
    started: bool  # False: attached to a run already there


async def start_intent(
    state: Any,
    who: Principal,
    intent: str,
    inputs: dict[str, Any],
    *,
    mode: RequestedMode = RequestedMode.AUTO,
    callback_url: str | None = None,
    idempotency_key: str | None = None,
    eager_start: bool = False,
    field_prefix: str = "inputs.",
) -> IntentJob:
    """Validate and start (or attach to) one intent's job: what POST /orchestrate and every intent tool do."""
    settings = state.settings
    spec = await resolve_intent(state, intent)
    resolved = resolve_mode(spec, mode, state.routes)
    validated = validate(spec, inputs, settings, prefix=field_prefix)
    check_callback(state, callback_url)
    plain = validated.model_dump(mode="json")
    job_id = lifecycle.job_id_for(JobKind.INTENT, spec.name, plain, idempotency_key, tenant=who.tenant)
    logs.bind(job_id=job_id, workflow_id=job_id, intent=spec.name)
    client = await state.temporal.client()
    req = IntentRequest(intent=spec.name, inputs=plain, mode=resolved, callback_url=callback_url, requested_by=who.name)
    fingerprint = canonical.fingerprint(spec.name, plain)
    summary = spec.summary_for(validated)
    handle, started = await lifecycle.start_or_attach(
        client,
        IntentWorkflow.run,
        req,
        job_id=job_id,
        fresh_after_close=spec.read_only and idempotency_key is None,
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every job ends
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.INTENT, spec.name),
                SearchAttributePair(sa.MODE, str(resolved)),
                *tenancy.stamp(who),
            ]
        ),
        priority=tenancy.priority(who),  # tenants share the task queue fairly
        static_summary=summary,
        static_details=lifecycle.details_markdown(spec.name, str(resolved), plain),
        memo={"fingerprint": fingerprint, "summary": summary},  # summary: GET /jobs lists it
        keyed_fingerprint=fingerprint if idempotency_key is not None else None,
        request_eager_start=eager_start and getattr(state, "eager_start", False),
    )
    if started and (metrics := getattr(state, "metrics", None)) is not None:
        metrics.jobs_started.labels(intent=spec.name, mode=str(resolved)).inc()
    return IntentJob(spec, resolved, plain, job_id, handle, started)


# --- GPT workflows ------------------------------------------------------------------------------


@dataclass
class CreatedGptWorkflow:
    workflow_id: str
    name: str
    steps: list[str]
    state: GptRunState = GptRunState.CREATED


async def create_gpt_workflow(
    state: Any, who: Principal, definition: GptWorkflowDefinition, idempotency_key: str | None = None
) -> CreatedGptWorkflow:
    settings = state.settings
    try:
        order = check_definition(definition, settings)
    except RequestRejected as exc:
        raise rejected(exc) from None
    client = await state.temporal.client()
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
        static_summary=truncate_utf8(
            f"GPT workflow {quote_short(definition.name)}: {len(definition.steps)} steps, {kind}", 200
        ),
        static_details=lifecycle.details_markdown("gpt.workflow", "agent", definition.model_dump(mode="json")),
        memo={
            "state": "created",
            "summary": truncate_utf8(
                f"GPT workflow {quote_short(definition.name)}: {len(definition.steps)} steps, {kind}", 200
            ),
        },
    )
    return CreatedGptWorkflow(workflow_id=workflow_id, name=definition.name, steps=order)


GPT_STATE_BY_JOB_STATUS = {
    JobStatus.SUCCESS: GptRunState.SUCCEEDED,
    JobStatus.ERROR: GptRunState.FAILED,
    JobStatus.CANCELLED: GptRunState.CANCELLED,
    JobStatus.TERMINATED: GptRunState.TERMINATED,
    JobStatus.TIMED_OUT: GptRunState.TIMED_OUT,
}


def closed_state(desc) -> GptRunState | None:
    """None while the run is open (then the workflow itself says created or running)."""
    return GPT_STATE_BY_JOB_STATUS.get(lifecycle.JOB_STATUS.get(desc.status)) if desc.status else None  # type: ignore[arg-type]


async def gpt_workflow(state: Any, who: Principal, workflow_id: str) -> lifecycle.DescribedJob:
    client = await state.temporal.client()
    found = await lifecycle.describe(client, workflow_id, who)  # another tenant's: the same 404 as none
    if found.description.workflow_type != "GptWorkflow":
        raise ApiError(ErrorType.NOT_FOUND, "no such GPT workflow", field="workflow_id")
    return found


async def gpt_status(state: Any, who: Principal, workflow_id: str) -> GptWorkflowStatus:
    """The workflow's own status query (each step's state), with Temporal's word on a closed run."""
    handle, desc = await gpt_workflow(state, who, workflow_id)
    try:
        status: GptWorkflowStatus = await lifecycle.read_state(handle, GptWorkflow.status)
    except Exception as exc:  # no worker to answer: say so rather than guess
        raise ApiError(
            ErrorType.WORKER_UNAVAILABLE, "no worker answered the status query; is a worker running?"
        ) from exc
    if (closed := closed_state(desc)) is not None:
        status.state = closed  # terminated or timed out from outside: the run never said so itself
    return await with_step_approvals(await state.temporal.client(), status)


async def execute_gpt_workflow(state: Any, who: Principal, workflow_id: str) -> WorkflowHandle:
    """Send the created workflow its `execute` update; the handle to wait on."""
    client = await state.temporal.client()
    handle, _ = await gpt_workflow(state, who, workflow_id)
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
            closed = closed_state(now) or "closed"
            raise ApiError(
                ErrorType.WORKFLOW_CLOSED, f"the workflow is already {closed}", field="workflow_id"
            ) from None
        raise ApiError(ErrorType.WORKFLOW_UNRESPONSIVE, f"the workflow is open but did not take the execute request ({getattr(exc, 'message', None) or exc})",
            field="workflow_id",
        ) from None  # fmt: skip
    return handle


# --- fleets -------------------------------------------------------------------------------------


@dataclass
class FleetJob:
    workflow_id: str
    category: str
    handle: WorkflowHandle
    started: bool


async def start_fleet(state: Any, who: Principal, req: FleetRequest, idempotency_key: str | None = None) -> FleetJob:
    settings = state.settings
    try:
        check_fleet(req, settings)
    except RequestRejected as exc:
        raise rejected(exc) from None
    members = agents_for(settings).fleet(req.category)
    category = members[0].category
    req = req.model_copy(update={"category": category})
    material = canonical_json(req.model_dump(mode="json"))
    workflow_id = lifecycle.job_id_for(
        JobKind.FLEET, "fleet.orchestrate", req.model_dump(mode="json"), idempotency_key, tenant=who.tenant
    )
    client = await state.temporal.client()
    handle, started = await lifecycle.start_or_attach(
        client,
        FleetWorkflow.run,
        # Members resolved here travel in the input (so in history): the run needs no lookup of its own.
        FleetRun(request=req, members=FleetMembers(category=category, agents=[a.name for a in members])),
        job_id=workflow_id,
        keyed_fingerprint=sha256(material) if idempotency_key else None,
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every job ends
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.FLEET, category),
                SearchAttributePair(sa.INTENT, "fleet.orchestrate"),
                *tenancy.stamp(who),
            ]
        ),
        priority=tenancy.priority(who),
        static_summary=truncate_utf8(f"Fleet {category}: {req.objective}", 200),
        static_details=lifecycle.details_markdown("fleet.orchestrate", "agent", req.model_dump(mode="json")),
        memo={"summary": truncate_utf8(f"Fleet {category}: {req.objective}", 200)},  # GET /jobs lists it
    )
    return FleetJob(workflow_id, category, handle, started)
