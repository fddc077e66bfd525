"""GET /approvals: the approvals inbox. Every job of the caller's tenant that waits for a human decision,
top-level jobs and GPT workflow steps alike, with exactly what is to be decided.

Read from Temporal: visibility finds the runs whose `Approval` search attribute is `pending`, and each
one's `state` query says what it asks (command, host, user, risks, requester, expiry, fingerprint). A
decision made anywhere (curl, the CLI, another console) changes that attribute, so the next read of
the inbox no longer lists it. Operator route: not in the ChatGPT Actions schema.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from gateway import tenancy
from gateway.auth import Reads
from gateway.lifecycle import intent_state
from gateway.openapi import ContractRoute
from intents.approval import ApprovalRequest
from workflows import search_attributes as sa
from workflows.models import Stage

router = APIRouter(route_class=ContractRoute, tags=["approvals"])
PENDING = "WorkflowType='IntentWorkflow' AND ExecutionStatus='Running' AND Approval='pending'"


class PendingApproval(BaseModel):
    job_id: str = Field(description="Approve or reject this id: POST /jobs/{job_id}/approve|reject.")
    intent: str | None = None
    requested_by: str | None = Field(default=None, description="The name of the key that asked.")
    tenant: str
    started_at: datetime | None = None
    workflow_id: str | None = Field(default=None, description="The GPT workflow (or job) this is a step of, if any.")
    step_id: str | None = Field(default=None, description="Its step id in that workflow.")
    approval_request: ApprovalRequest | None = Field(
        default=None, description="Exactly what is to be decided; missing only when no worker answered."
    )


class ApprovalInbox(BaseModel):
    approvals: list[PendingApproval] = Field(description="Oldest first: the one that expires soonest is on top.")


async def _pending(client, wf) -> PendingApproval | None:
    attrs = wf.typed_search_attributes
    parent = wf.parent_id
    step = wf.id[len(parent) + 1 :] if parent and wf.id.startswith(parent + ".") else None
    item = PendingApproval(
        job_id=wf.id, intent=attrs.get(sa.INTENT), requested_by=attrs.get(sa.REQUESTED_BY), tenant=tenancy.tenant_of(attrs),
        started_at=wf.start_time, workflow_id=parent, step_id=step,
    )  # fmt: skip
    state = await intent_state(client.get_workflow_handle(wf.id))
    if state is not None:
        if state.stage != Stage.AWAITING_APPROVAL:
            return None  # decided since visibility was written: not in the inbox any more
        item.approval_request = state.approval_request
        item.intent = item.intent or state.intent
    return item


@router.get(
    "/approvals",
    operation_id="listPendingApprovals",
    summary="The approvals inbox: every job of this key's tenant that waits for a human decision",
    response_model=ApprovalInbox,
    response_model_exclude_none=True,
    openapi_extra={"x-operator-only": True},
)
async def list_pending(request: Request, who: Reads, limit: int = Query(default=100, ge=1, le=200)) -> ApprovalInbox:
    client = await request.app.state.temporal.client()
    query = PENDING
    if (mine := tenancy.list_filter(who)) is not None:
        query += " AND " + mine
    runs = [wf async for wf in client.list_workflows(query, limit=limit)]
    found = await asyncio.gather(*(_pending(client, wf) for wf in runs))
    items = [item for item in found if item is not None]
    items.sort(
        key=lambda i: (i.approval_request.expires_at.timestamp() if i.approval_request else float("inf"), i.job_id)
    )
    return ApprovalInbox(approvals=items)
