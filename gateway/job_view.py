"""How a job reads (GET /jobs/{id}, GET /api/gpt-workflows/{id}): status, result or error, approvals, steps."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowFailureError

from gateway.auth import Principal
from gateway.lifecycle import JOB_STATUS, describe, failure_of, intent_state, read_state
from gateway.schemas import ErrorInfo, JobStatus, JobView, StepAwaitingApproval
from gateway.tenancy import tenant_of
from intents.errors import ErrorType
from intents.usage import Usage
from workflows import search_attributes as sa
from workflows.dag import StepState
from workflows.gpt import GptWorkflowStatus
from workflows.models import Stage


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() * 1000) if start and end else None


async def job_view(client: Client, job_id: str, who: Principal | None = None) -> JobView:
    """The job as GET /jobs/{id} shows it; with `who`, another tenant's job is the 404 of no job."""
    handle, desc = await describe(client, job_id, who)
    attrs = desc.typed_search_attributes
    status = JOB_STATUS.get(desc.status, JobStatus.RUNNING) if desc.status else JobStatus.RUNNING
    view = JobView(
        job_id=job_id,
        intent=attrs.get(sa.INTENT),
        mode=attrs.get(sa.MODE),
        requested_by=attrs.get(sa.REQUESTED_BY),
        tenant=tenant_of(attrs),
        status=status,
        schedule_id=attrs.get(sa.SCHEDULE),
        started_at=desc.start_time,
        closed_at=desc.close_time,
        duration_ms=_ms(desc.start_time, desc.close_time),
        summary=await desc.static_summary(),
        inputs=inputs_of(await desc.static_details()),
    )
    if status == JobStatus.RUNNING and attrs.get(sa.APPROVAL) == "pending":
        state = await intent_state(handle)
        if state and state.stage == Stage.AWAITING_APPROVAL:
            view.status, view.risk, view.expires_at = JobStatus.AWAITING_APPROVAL, state.risks, state.expires_at
            view.approval_request = state.approval_request
        if state and view.intent is None:
            view.intent = state.intent
    elif status == JobStatus.RUNNING and (gpt_id := gpt_workflow_of(desc.workflow_type, job_id, view.intent)):
        gpt = await gpt_status(client, gpt_id)
        waiting = [
            StepAwaitingApproval(step_id=s.step_id, job_id=s.job_id, approval=s.approval)
            for s in (gpt.steps if gpt else [])
            if s.state == StepState.AWAITING_APPROVAL and s.job_id and s.approval
        ]
        view.steps_awaiting_approval = waiting or None
        view.usage = gpt.usage if gpt else None
    elif status == JobStatus.SUCCESS:
        outcome = await handle.result()
        view.result = (
            outcome.get("result", outcome)
            if isinstance(outcome, dict) and desc.workflow_type == "IntentWorkflow"
            else outcome
        )
        if isinstance(outcome, dict) and outcome.get("approval"):
            view.approval = outcome["approval"]
        if isinstance(outcome, dict) and "duration_ms" in outcome and desc.workflow_type == "IntentWorkflow":
            view.duration_ms = view.duration_ms or outcome["duration_ms"]
        view.usage = usage_in(view.result)
    elif status != JobStatus.RUNNING:
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            view.status, view.error = failure_of(exc)
            if view.status not in (JobStatus.REJECTED, JobStatus.EXPIRED):
                view.status = status
            view.usage = usage_in(view.error.details)  # a failed GPT workflow's error carries its status
        except Exception as exc:  # noqa: BLE001 - any read failure becomes a typed error, never a 500
            view.error = ErrorInfo(type=ErrorType.ERROR, message=f"the result could not be read ({type(exc).__name__})")
    if attrs.get(sa.APPROVAL) and attrs.get(sa.APPROVAL) != "pending":
        view.approval = (view.approval or {}) | {"decision": attrs.get(sa.APPROVAL), "approver": attrs.get(sa.APPROVER)}
    return view


def inputs_of(details: str | None) -> Any:
    """The redacted inputs a job's static details hold (lifecycle.details_markdown), or its text if cut short."""
    if not details or "```json\n" not in details:
        return None
    body = details.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    try:
        return json.loads(body)
    except ValueError:
        return body  # cut at its size limit: still worth reading


def usage_in(value: Any) -> Usage | None:
    """The `usage` a GPT workflow's or fleet's result (or failed status) carries, if any."""
    if isinstance(value, dict) and isinstance(value.get("usage"), dict):
        try:
            return Usage.model_validate(value["usage"])
        except ValueError:
            return None
    return None


def gpt_workflow_of(workflow_type: str | None, job_id: str, intent: str | None) -> str | None:
    """The GptWorkflow behind a job: the job itself, or the `.run` child of a gpt.workflow intent job."""
    if workflow_type == "GptWorkflow":
        return job_id
    if workflow_type == "IntentWorkflow" and intent == "gpt.workflow":
        return f"{job_id}.run"
    return None


async def with_step_approvals(client: Client, status: GptWorkflowStatus) -> GptWorkflowStatus:
    """Show each running step whose own job waits for a human as `awaiting_approval`, with what to decide.

    Read from Temporal each time: the step's job id is in the workflow's step record, and the child's
    `state` query says whether it waits (the parent only knows the step is running)."""
    running = [s for s in status.steps if s.state == StepState.RUNNING and s.job_id]
    states = await asyncio.gather(*(intent_state(client.get_workflow_handle(s.job_id or "")) for s in running))
    for step, state in zip(running, states, strict=True):
        if state is not None and state.stage == Stage.AWAITING_APPROVAL:
            step.state, step.approval = StepState.AWAITING_APPROVAL, state.approval_request
    return status


async def gpt_status(client: Client, workflow_id: str) -> GptWorkflowStatus | None:
    try:
        status = await read_state(client.get_workflow_handle(workflow_id), "status", result_type=GptWorkflowStatus)
    except Exception:  # no worker / not started yet: nothing to show
        return None
    return await with_step_approvals(client, status)
