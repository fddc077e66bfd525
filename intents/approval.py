"""Models for the approval gate: the preflight review, the human decision and its record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Preflight(BaseModel):
    """What a preflight activity says about a request before anything runs."""

    risks: list[str] = Field(default_factory=list, description="Why a human must approve; empty = safe.")
    inline_confirmed: bool = Field(
        default=False, description="Caller set confirm_dangerous and settings allow that weaker path."
    )
    task_queue: str | None = Field(default=None, description="Zone queue the handler must run on.")
    target: str = Field(default="", description="Short name of what is touched (host), for summaries.")
    approval_timeout_s: float = Field(default=900, gt=0, description="How long a human has to decide.")


class DecisionKind(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INLINE = "inline_confirmed"


class DecisionRequest(BaseModel):
    """Body of POST /jobs/{id}/approve|reject (an update's argument)."""

    reason: str | None = Field(default=None, max_length=1000)
    approver: str | None = Field(default=None, max_length=128, description="Who decided (defaults to 'api').")


class Approval(BaseModel):
    """The recorded decision; passed to the handler activity as its second argument."""

    decision: DecisionKind
    approver: str
    reason: str | None = None
    decided_at: datetime
