"""Inputs, outputs and query views of the single-intent workflow (imported by the gateway too)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from intents.approval import Approval, ApprovalRequest
from intents.spec import Mode


class IntentRequest(BaseModel):
    """What the gateway starts IntentWorkflow with. The mode is already resolved (visible in history)."""

    intent: str
    inputs: dict[str, Any]
    mode: Mode
    callback_url: str | None = None
    requested_by: str | None = None  # the gateway's principal (gateway/auth.py), shown to the approver
    # The requesting key's tenant. Scheduled runs carry their creator's identity here: a run starts long
    # after the request, from Temporal, with nobody calling.
    tenant: str | None = None


class IntentResult(BaseModel):
    intent: str
    mode: Mode
    result: Any
    duration_ms: int
    approval: Approval | None = None


class Stage(StrEnum):
    PREFLIGHT = "preflight"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    DONE = "done"


STEP_APPROVAL_SIGNAL = "step_approval"


class StepApprovalNote(BaseModel):
    """What a GPT workflow step's own job tells the workflow: it waits for a human, or got a decision."""

    job_id: str
    state: str = Field(description="`pending` or `decided` (workflows.progress.ApprovalPhase).")
    request: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None


class IntentState(BaseModel):
    """Answer of the `state` query: where the job is, and what a human is asked to decide."""

    stage: Stage
    intent: str
    target: str = ""
    risks: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
    approval: Approval | None = None
    approval_request: ApprovalRequest | None = None  # what the human is asked, while awaiting approval
