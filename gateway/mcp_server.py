"""/mcp: the platform as a remote MCP server (streamable HTTP, official `mcp` SDK 1.x, low-level Server).

Tools:
- one per registered intent, named like the intent with `.` -> `_` (`memory_write`, `mcp_time_get_current_time`):
  its input schema from the registry, an output schema (the job envelope, `result` typed by the
  intent's output model), annotations from read_only / consequential;
- `run_gpt_workflow`, `orchestrate_fleet`, `get_job` and `list_agents`.

Every tool starts its job the way the HTTP routes do (gateway/calls.py) and waits the way they do
(gateway/lifecycle.py), up to MCP_TOOL_WAIT_S, sending `notifications/progress` while it waits when the
client gave a progress token. Past the wait it answers with the job's status and ID (`get_job` reads it
later). A task-augmented call (the 2025-11-25 spec's Tasks, the SDK's experimental API) answers at once
with a task whose ID is the job ID; tasks/get, tasks/result and tasks/cancel read, wait for and cancel the job.

Auth is the gateway's: the same Bearer keys (or OAuth access tokens) and roles. The body guard
(gateway/limits.py) admits every POST before a byte is read; this endpoint admits the bodiless ones
(GET, DELETE) itself. Each tool checks the role its action needs, so a caller key can run and read
but never approve: no tool decides on approvals, and an approval is given in the approvals API.

The session manager runs stateless (no session lives in a gateway), so any gateway behind a load
balancer serves any request, as for the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from config.api_keys import Action
from gateway import calls, lifecycle, oauth
from gateway.answers import as_json, cap_result
from gateway.auth import PRINCIPAL_KEY, Principal, forbidden
from gateway.errors import ApiError, error_body, validation_details
from gateway.job_view import job_view
from gateway.lifecycle import JobFailure, Outcome, OutcomeKind
from gateway.schemas import JobView
from intents import registry
from intents.errors import ErrorType
from intents.fleets import FleetRequest, FleetResult
from intents.gpt_definitions import GptWorkflowDefinition
from intents.orchestration import agents_for
from intents.spec import IntentSpec
from intents.tenancy import public_schema
from workflows.dag import StepState
from workflows.gpt import GptWorkflowStatus

log = logging.getLogger("gpt_orchestrator.gateway.mcp")

PROGRESS_EVERY_S = 0.5
TASK_POLL_MS = 1000
# A task lives as long as its job is kept: the namespace's retention (24 h on the dev server) after it closes.
TASK_TTL_MS = 24 * 3600 * 1000
FINISHED_STEPS = {StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED, StepState.NOT_RUN}
RUN_GPT_WORKFLOW, ORCHESTRATE_FLEET, GET_JOB, LIST_AGENTS = (
    "run_gpt_workflow",
    "orchestrate_fleet",
    "get_job",
    "list_agents",
)
Report = Callable[[float, float | None, str], Awaitable[None]]


def tool_name(intent: str) -> str:
    return intent.replace(".", "_")


def title_of(intent: str) -> str:
    words = intent.replace("_", " ").replace(".", " ").split()
    return " ".join([words[0].capitalize(), *words[1:]]) if words else intent


def envelope_schema(result_schema: dict[str, Any] | None) -> dict[str, Any]:
    """What every job-running tool returns as structured content: the job's status and ID, and its
    result once it has one (typed by the intent's output model)."""
    result_schema = dict(result_schema or {})
    defs = result_schema.pop("$defs", None)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["success", "accepted", "awaiting_approval"],
                       "description": "success: `result` holds the answer; accepted: still running (call get_job with job_id); "
                                      "awaiting_approval: a human must approve it first (see `message`)."},
            "job_id": {"type": "string"},
            "intent": {"type": "string"},
            "message": {"type": "string"},
            "result": result_schema or {},
            "truncated_result": {"type": "object", "description": "Set instead of `result` when the result was too long."},
            "approval_request": {"type": "object"},
            "approve_url": {"type": "string"},
            "console_url": {"type": "string", "description": "Where an approver decides, in the browser."},
        },
        "required": ["status", "job_id"],
    }  # fmt: skip
    if defs:
        schema["$defs"] = defs
    return schema


def _schema(model) -> dict[str, Any]:
    return model.model_json_schema() if model is not None else {}


class McpTools:
    """The tool list and the calls, bound to the FastAPI app (its state: settings, Temporal, catalog)."""

    def __init__(self, app) -> None:
        self.app = app

    @property
    def state(self):
        return self.app.state

    # --- listing ---------------------------------------------------------------------------

    def intent_tool(self, spec: IntentSpec) -> types.Tool:
        return types.Tool(
            name=tool_name(spec.name),
            title=title_of(spec.name),
            description=spec.description,
            inputSchema=public_schema(spec),
            outputSchema=envelope_schema(_schema(spec.output_model)),
            annotations=types.ToolAnnotations(
                title=title_of(spec.name),
                readOnlyHint=spec.read_only,
                destructiveHint=spec.consequential,
                # A repeat with the same inputs is the same job (its ID is a hash of them): it never runs twice.
                idempotentHint=True,
                openWorldHint=not spec.name.startswith("memory."),
            ),
            execution=types.ToolExecution(taskSupport="optional"),
        )

    def platform_tools(self) -> list[types.Tool]:
        long_running = types.ToolExecution(taskSupport="optional")
        fleet_schema = FleetRequest.model_json_schema()
        return [
            types.Tool(
                name=RUN_GPT_WORKFLOW, title="Run a GPT workflow",
                description="Create and run a multi-step GPT workflow (steps across named GPT agents, a DAG with "
                "conditions and templates). Sends progress per finished step; answers with every step's output, or "
                "with the job ID to read later with get_job.",
                inputSchema=GptWorkflowDefinition.model_json_schema(),
                outputSchema=envelope_schema(GptWorkflowStatus.model_json_schema()),
                annotations=types.ToolAnnotations(title="Run a GPT workflow", readOnlyHint=False, destructiveHint=True,
                                                  idempotentHint=False, openWorldHint=True),
                execution=long_running,
            ),
            types.Tool(
                name=ORCHESTRATE_FLEET, title="Orchestrate a fleet",
                description="Give one objective to every GPT agent of a fleet (category); results per agent, with an "
                "optional synthesis by a lead agent.",
                inputSchema=fleet_schema,
                outputSchema=envelope_schema(FleetResult.model_json_schema()),
                annotations=types.ToolAnnotations(title="Orchestrate a fleet", readOnlyHint=False, destructiveHint=False,
                                                  idempotentHint=True, openWorldHint=True),
                execution=long_running,
            ),
            types.Tool(
                name=GET_JOB, title="Get a job",
                description="Read a job's status and result by its job_id (any tool's job, or a GPT workflow's ID).",
                inputSchema={"type": "object", "properties": {"job_id": {"type": "string", "maxLength": 200}}, "required": ["job_id"]},
                outputSchema=JobView.model_json_schema(),
                annotations=types.ToolAnnotations(title="Get a job", readOnlyHint=True, idempotentHint=True, openWorldHint=False),
            ),
            types.Tool(
                name=LIST_AGENTS, title="List GPT agents",
                description="The named GPT agents (name, fleet, description, model) that GPT workflows and fleets use.",
                inputSchema={"type": "object", "properties": {}},
                annotations=types.ToolAnnotations(title="List GPT agents", readOnlyHint=True, idempotentHint=True, openWorldHint=False),
            ),
        ]  # fmt: skip

    async def list_tools(self, who: Principal) -> list[types.Tool]:
        await self.state.mcp_catalog.ensure_loaded()
        tools: list[types.Tool] = []
        if who.may(Action.RUN):
            tools += [self.intent_tool(spec) for spec in registry.all_intents()]
        platform = self.platform_tools()
        tools += [t for t in platform if who.may(Action.READ if t.name in (GET_JOB, LIST_AGENTS) else Action.RUN)]
        return tools

    def intent_for(self, name: str) -> str | None:
        found = {tool_name(n): n for n in registry.names()}
        return found.get(name)

    # --- calling ---------------------------------------------------------------------------

    async def call(self, who: Principal, name: str, arguments: dict[str, Any], report: Report | None, *, as_task: bool):
        """A CallToolResult, or a CreateTaskResult for a task-augmented call. ApiErrors become tool errors."""
        try:
            if name == GET_JOB:
                return await self._get_job(who, arguments)
            if name == LIST_AGENTS:
                self._require(who, Action.READ)
                settings = self.state.settings
                agents = {"agents": agents_for(settings).list_agents(settings)}
                return types.CallToolResult(content=[_text(agents)], structuredContent=agents)
            self._require(who, Action.RUN)
            if name == RUN_GPT_WORKFLOW:
                return await self._run_gpt_workflow(who, arguments, report, as_task=as_task)
            if name == ORCHESTRATE_FLEET:
                return await self._orchestrate_fleet(who, arguments, report, as_task=as_task)
            intent = self.intent_for(name)
            if intent is None and name.startswith("mcp_"):
                await self.state.mcp_catalog.refresh_for("mcp." + name[4:])
                intent = self.intent_for(name)
            if intent is None:
                raise ApiError(
                    ErrorType.UNKNOWN_INTENT, "unknown tool; list the tools again (tools/list)", field="name"
                )
            return await self._run_intent(who, intent, arguments, report, as_task=as_task)
        except ApiError as exc:
            return tool_error(
                error_body(exc.error_type, exc.message, field=exc.field, details=exc.details, job_id=exc.job_id)
            )

    @staticmethod
    def _require(who: Principal, action: Action) -> None:
        if not who.may(action):
            raise forbidden(who, action)

    async def _run_intent(
        self, who: Principal, intent: str, arguments: dict[str, Any], report: Report | None, *, as_task: bool
    ):
        job = await calls.start_intent(self.state, who, intent, arguments, field_prefix="")
        if as_task:
            return task_created(job.job_id)
        spec = job.spec
        progress = IntentProgress(job.handle)
        outcome = await wait_reporting(
            lifecycle.wait_for_outcome(
                job.handle, self.state.settings.mcp_tool_wait_s, watch_approval=bool(spec.preflight_activity)
            ),
            report,
            progress.poll,
        )
        return self.intent_result(outcome, job.job_id, spec.name)

    def intent_result(self, outcome: Outcome, job_id: str, intent: str) -> types.CallToolResult:
        if outcome.kind == OutcomeKind.DONE:
            value = as_json(outcome.value)
            return self.success(job_id, intent, value.get("result") if isinstance(value, dict) else value)
        if outcome.kind == OutcomeKind.FAILED:
            return failure_result(job_id, outcome.value)
        if outcome.kind == OutcomeKind.AWAITING_APPROVAL:
            state = outcome.value
            base = self.public_base()
            body = {
                "status": "awaiting_approval",
                "job_id": job_id,
                "intent": intent,
                "message": (
                    f"This awaits a human approval before it runs ({'; '.join(state.risks) or 'risky'}). It is not done: "
                    f"an approver (a key with the approver role; this key cannot) approves or rejects it in the console's "
                    f"approvals inbox, {base}/console#/approvals, or through the approvals API, POST "
                    f"{base}/jobs/{job_id}/approve or /reject, after reading GET {base}/jobs/{job_id}. "
                    "Then call get_job with this job_id for the outcome."
                ),
                "approval_request": state.approval_request.model_dump(mode="json") if state.approval_request else {},
                "approve_url": f"{base}/jobs/{job_id}/approve",
                "console_url": f"{base}/console#/approvals",
            }
            return types.CallToolResult(content=[_text(body)], structuredContent=body)
        return pending_result(job_id, intent)

    def success(self, job_id: str, intent: str, result: Any) -> types.CallToolResult:
        capped = cap_result(result, self.state.settings.max_result_chars)
        body: dict[str, Any] = {"status": "success", "job_id": job_id, "intent": intent}
        if isinstance(capped, dict) and capped.get("truncated") is True and capped is not result:
            body["truncated_result"] = capped
        else:
            body["result"] = result
        return types.CallToolResult(content=[_text(body)], structuredContent=body)

    def public_base(self) -> str:
        return (self.state.settings.public_url or "<gateway URL>").rstrip("/")

    async def _get_job(self, who: Principal, arguments: dict[str, Any]) -> types.CallToolResult:
        self._require(who, Action.READ)
        job_id = arguments.get("job_id")
        if not isinstance(job_id, str):
            raise ApiError(ErrorType.VALIDATION, "job_id: a string is required", field="job_id")
        view = await job_view(await self.state.temporal.client(), job_id, who)
        view.result = cap_result(view.result, self.state.settings.max_result_chars)
        body = view.model_dump(mode="json", exclude_none=True)
        return types.CallToolResult(content=[_text(body)], structuredContent=body)

    async def _run_gpt_workflow(
        self, who: Principal, arguments: dict[str, Any], report: Report | None, *, as_task: bool
    ):
        try:
            definition = GptWorkflowDefinition.model_validate(arguments)
        except ValidationError as exc:
            raise _invalid(exc) from None
        created = await calls.create_gpt_workflow(self.state, who, definition)
        handle = await calls.execute_gpt_workflow(self.state, who, created.workflow_id)
        if as_task:
            return task_created(created.workflow_id)
        progress = GptProgress(self.state, who, created.workflow_id, len(created.steps))
        outcome = await wait_reporting(
            lifecycle.wait_for_outcome(handle, self.state.settings.mcp_tool_wait_s), report, progress.poll
        )
        if outcome.kind == OutcomeKind.PENDING:
            return pending_result(created.workflow_id, "gpt.workflow")
        if report is not None:
            await progress.poll_and(report)
        status = await calls.gpt_status(self.state, who, created.workflow_id)
        if outcome.kind == OutcomeKind.FAILED:
            return failure_result(
                created.workflow_id, outcome.value, extra={"steps": status.model_dump(mode="json")["steps"]}
            )
        return self.success(created.workflow_id, "gpt.workflow", status.model_dump(mode="json"))

    async def _orchestrate_fleet(
        self, who: Principal, arguments: dict[str, Any], report: Report | None, *, as_task: bool
    ):
        try:
            req = FleetRequest.model_validate(arguments)
        except ValidationError as exc:
            raise _invalid(exc) from None
        job = await calls.start_fleet(self.state, who, req)
        if as_task:
            return task_created(job.workflow_id)
        outcome = await wait_reporting(
            lifecycle.wait_for_outcome(job.handle, self.state.settings.mcp_tool_wait_s),
            report,
            IntentProgress(job.handle).poll,
        )
        if outcome.kind == OutcomeKind.DONE:
            return self.success(job.workflow_id, "fleet.orchestrate", as_json(outcome.value))
        if outcome.kind == OutcomeKind.FAILED:
            return failure_result(job.workflow_id, outcome.value)
        return pending_result(job.workflow_id, "fleet.orchestrate")

    # --- tasks: task ID = job ID ------------------------------------------------------------

    async def task(self, who: Principal, task_id: str) -> types.Task:
        client = await self.state.temporal.client()
        view = await job_view(client, task_id, who)
        status, message = TASK_STATUS.get(str(view.status), ("working", str(view.status)))
        if str(view.status) == "awaiting_approval":
            message = f"awaiting a human approval: an approver decides with POST /jobs/{task_id}/approve or /reject"
        now = datetime.now(timezone.utc)
        return types.Task(
            taskId=task_id, status=status, statusMessage=message, createdAt=view.started_at or now,
            lastUpdatedAt=view.closed_at or now, ttl=TASK_TTL_MS, pollInterval=TASK_POLL_MS,
        )  # fmt: skip

    async def task_result(self, who: Principal, task_id: str) -> types.CallToolResult:
        client = await self.state.temporal.client()
        handle, desc = await lifecycle.describe(client, task_id, who)
        # tasks/result blocks until the task is terminal (the spec): wait as long as the job runs.
        outcome = await lifecycle.wait_for_outcome(handle, self.state.settings.max_run_s)
        if desc.workflow_type == "GptWorkflow" and outcome.kind == OutcomeKind.DONE:
            status = await calls.gpt_status(self.state, who, task_id)
            return self.success(task_id, "gpt.workflow", status.model_dump(mode="json"))
        intent = str(desc.search_attributes.get("Intent", [""])[0]) if desc.search_attributes.get("Intent") else ""
        return self.intent_result(outcome, task_id, intent or desc.workflow_type or "job")

    async def cancel_task(self, who: Principal, task_id: str) -> types.Task:
        self._require(who, Action.CANCEL)
        client = await self.state.temporal.client()
        _, desc = await lifecycle.describe(client, task_id, who)
        if lifecycle.is_open(desc):
            await lifecycle.cancel_job(client, task_id, self.state.settings.cancel_grace_s)
        task = await self.task(who, task_id)
        if task.status == "working":
            task.status, task.statusMessage = "cancelled", "cancellation requested; the job ends within CANCEL_GRACE_S"
        return task


TASK_STATUS: dict[str, tuple[Any, str | None]] = {
    "running": ("working", "running"),
    "awaiting_approval": ("input_required", None),
    "success": ("completed", None),
    "error": ("failed", "the job failed"),
    "rejected": ("failed", "the approver rejected it"),
    "expired": ("failed", "nobody approved it in time"),
    "timed_out": ("failed", "timed out"),
    "cancelled": ("cancelled", None),
    "terminated": ("cancelled", "terminated"),
}


def _text(body: Any) -> types.TextContent:
    return types.TextContent(type="text", text=json.dumps(body, ensure_ascii=False, default=str))


def _invalid(exc: ValidationError) -> ApiError:
    details = validation_details(exc.errors(), prefix="")
    first = details[0]
    return ApiError(ErrorType.VALIDATION, f"{first['field']}: {first['reason']}", field=first["field"], details=details)


def tool_error(body: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[_text(body)], isError=True)


def failure_result(job_id: str, failure: JobFailure, extra: dict[str, Any] | None = None) -> types.CallToolResult:
    body = {
        "status": "error",
        "job_id": job_id,
        "job_status": str(failure.status),
        "error": failure.error.model_dump(mode="json", exclude_none=True),
    }
    return tool_error(body | (extra or {}))


def pending_result(job_id: str, intent: str) -> types.CallToolResult:
    body = {
        "status": "accepted",
        "job_id": job_id,
        "intent": intent,
        "message": "Still running (it is durable: nothing is lost). Call get_job with this job_id for its status and result.",
    }
    return types.CallToolResult(content=[_text(body)], structuredContent=body)


def task_created(job_id: str) -> types.CreateTaskResult:
    now = datetime.now(timezone.utc)
    task = types.Task(
        taskId=job_id, status="working", createdAt=now, lastUpdatedAt=now, ttl=TASK_TTL_MS, pollInterval=TASK_POLL_MS
    )
    return types.CreateTaskResult(task=task)


# --- progress while waiting ----------------------------------------------------------------
# Seam: progress is read by polling the job (its state query, or a GPT workflow's steps). When the
# live-progress stream (GET /jobs/{id}/events) lands, a poll function reading it replaces these.


async def wait_reporting(
    wait: Awaitable[Outcome], report: Report | None, poll: Callable[[], Awaitable[tuple[float, float | None, str]]]
) -> Outcome:
    """Await the outcome; meanwhile (when the client asked for progress) report what `poll` says,
    first at once and then every PROGRESS_EVERY_S, only when the progress advanced (the spec's rule)."""
    waiter = asyncio.ensure_future(wait)
    if report is None:
        return await waiter
    last = -1.0
    try:
        while True:
            try:
                progress, total, message = await poll()
                if progress > last:
                    await report(progress, total, message)
                    last = progress
            except Exception:  # noqa: BLE001 - progress is best effort; the wait is what matters
                log.debug("progress poll failed", exc_info=True)
            done, _ = await asyncio.wait([waiter], timeout=PROGRESS_EVERY_S)
            if done:
                return waiter.result()
    finally:
        if not waiter.done():
            waiter.cancel()


class IntentProgress:
    """An intent job's stage from its `state` query; progress counts the polls (no total is known)."""

    def __init__(self, handle) -> None:
        self.handle, self.ticks = handle, 0

    async def poll(self) -> tuple[float, float | None, str]:
        self.ticks += 1
        state = await lifecycle.intent_state(self.handle)
        stage = str(state.stage) if state else "running"
        return float(self.ticks), None, f"{stage}"


class GptProgress:
    """A GPT workflow's finished steps out of all its steps."""

    def __init__(self, state, who: Principal, workflow_id: str, total: int) -> None:
        self.state, self.who, self.workflow_id, self.total = state, who, workflow_id, total

    async def poll(self) -> tuple[float, float | None, str]:
        status = await calls.gpt_status(self.state, self.who, self.workflow_id)
        done = [s for s in status.steps if s.state in FINISHED_STEPS]
        running = [s.step_id for s in status.steps if s.state == StepState.RUNNING]
        message = f"{len(done)}/{len(status.steps)} steps done" + (f", running {', '.join(running)}" if running else "")
        return float(len(done)), float(len(status.steps) or self.total), message

    async def poll_and(self, report: Report) -> None:
        with contextlib.suppress(Exception):
            progress, total, message = await self.poll()
            await report(progress, total, message)


# --- the server and its ASGI endpoint --------------------------------------------------------


def build_server(tools: McpTools) -> Server:
    server: Server = Server("gpt-orchestrator", version="0.1.0", instructions=(
        "Durable orchestration: every tool call is a Temporal job that survives restarts. Long calls answer with "
        "status 'accepted' and a job_id: call get_job later. Risky commands answer 'awaiting_approval': a human "
        "approves them outside this chat. Tool descriptions marked [third-party text …] come from other MCP servers."
    ))  # fmt: skip

    def who() -> Principal:
        request = server.request_context.request
        found = getattr(request, "scope", {}).get("state", {}).get(PRINCIPAL_KEY) if request is not None else None
        if found is None:  # every request to /mcp is admitted before it reaches the server
            raise RuntimeError("MCP request without an admitted principal")
        return found

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return await tools.list_tools(who())

    async def call_tool(req: types.CallToolRequest) -> types.ServerResult:
        ctx = server.request_context
        token = ctx.meta.progressToken if ctx.meta else None
        report: Report | None = None
        if token is not None:

            async def report(progress: float, total: float | None, message: str) -> None:
                await ctx.session.send_progress_notification(
                    token, progress, total, message, related_request_id=str(ctx.request_id)
                )

        as_task = bool(ctx.experimental and ctx.experimental.is_task)
        result = await tools.call(who(), req.params.name, req.params.arguments or {}, report, as_task=as_task)
        return types.ServerResult(result)

    # Registered directly (not through @server.call_tool): that wrapper re-validates against the listed schemas
    # with a cache of its own; the registry already validated the inputs, naming the field.
    server.request_handlers[types.CallToolRequest] = call_tool

    experimental = server.experimental

    @experimental.get_task()
    async def get_task(req: types.GetTaskRequest) -> types.GetTaskResult:
        task = await _as_mcp_error(tools.task(who(), req.params.taskId))
        return types.GetTaskResult(**task.model_dump())

    @experimental.get_task_result()
    async def get_task_result(req: types.GetTaskPayloadRequest) -> types.GetTaskPayloadResult:
        result = await _as_mcp_error(tools.task_result(who(), req.params.taskId))
        return types.GetTaskPayloadResult.model_validate(result.model_dump(by_alias=True, exclude_none=True))

    @experimental.cancel_task()
    async def cancel_task(req: types.CancelTaskRequest) -> types.CancelTaskResult:
        task = await _as_mcp_error(tools.cancel_task(who(), req.params.taskId))
        return types.CancelTaskResult(**task.model_dump())

    return server


async def _as_mcp_error(work: Awaitable[Any]) -> Any:
    from mcp.shared.exceptions import McpError

    try:
        return await work
    except ApiError as exc:
        code = types.INVALID_PARAMS if exc.status in (400, 404, 409, 422) else types.INTERNAL_ERROR
        raise McpError(types.ErrorData(code=code, message=exc.message)) from None


class McpEndpoint:
    """The ASGI app at /mcp: admits the caller, then hands the request to the SDK's session manager,
    which runs (its task group) from the app's lifespan, or from the first request when the server
    runs without one."""

    admits_itself = True  # gateway/auth.py check_routes: the role checks are per tool, below

    def __init__(self, app) -> None:
        self.app = app
        self.tools = McpTools(app)
        self._manager: StreamableHTTPSessionManager | None = None
        self._runner: asyncio.Task | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._runner is not None and not self._runner.done():
                return
            manager = StreamableHTTPSessionManager(app=build_server(self.tools), stateless=True, json_response=False)
            ready = asyncio.Event()
            self._stop = asyncio.Event()

            async def run() -> None:
                async with manager.run():
                    ready.set()
                    await self._stop.wait()

            self._runner = asyncio.create_task(run(), name="mcp-session-manager")
            waiter = asyncio.ensure_future(ready.wait())
            await asyncio.wait([waiter, self._runner], return_when=asyncio.FIRST_COMPLETED)
            if not ready.is_set():
                waiter.cancel()
                self._runner.result()  # raises what stopped it
            self._manager = manager

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._runner, timeout=5)
        self._runner = self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        settings = self.app.state.settings
        headers = dict(scope.get("headers", []))
        try:
            await self.app.state.gatekeeper.admit(scope, headers.get(b"authorization", b"").decode("latin-1") or None)
        except ApiError as refused:
            body = error_body(refused.error_type, refused.message, field=refused.field, details=refused.details)
            raw = [(b"content-type", b"application/json")]
            hdrs = refused.headers or (oauth.challenge(settings, scope) if refused.status == 401 else {})
            raw += [(k.lower().encode(), v.encode()) for k, v in hdrs.items()]
            await send({"type": "http.response.start", "status": refused.status, "headers": raw})
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})
            return
        if self._manager is None or self._runner is None or self._runner.done():
            await self.start()
        assert self._manager is not None
        await self._manager.handle_request(scope, receive, send)
