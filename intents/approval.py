"""The approval gate: the preflight review, what a human is asked, the decision and its record,
and `approval.request`, a pure human gate (a GPT workflow step that its dependents wait on).

An approval is bound to what was reviewed: the request's `fingerprint` (intents/canonical.py) is
shown to the approver, may be sent back with the decision (a mismatch is refused), is recorded in
the Approval, and is re-checked by the handler against its own inputs before it runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_serializer

from intents.spec import IntentSpec, Mode
from intents.text import quote_short

FINGERPRINT_PATTERN = r"^[0-9a-f]{64}$"


class Review(BaseModel):
    """What the approver must see about the request itself, as the preflight resolved it."""

    host: str | None = Field(default=None, description="Inventory host name.")
    user: str | None = Field(default=None, description="Remote login user, from the inventory.")
    command: str | None = Field(default=None, description="The exact command that will run.")
    message: str | None = Field(default=None, description="What a human gate asks (approval.request).")

    @model_serializer(mode="wrap")
    def _only_what_applies(self, handler):
        """Fields that do not apply (a gate has no host) are left out, so the review reads the same everywhere."""
        return {key: value for key, value in handler(self).items() if value is not None}


class Preflight(BaseModel):
    """What a preflight activity says about a request before anything runs."""

    risks: list[str] = Field(default_factory=list, description="Why a human must approve; empty = safe.")
    inline_confirmed: bool = Field(
        default=False, description="Caller set confirm_dangerous and settings allow that weaker path."
    )
    task_queue: str | None = Field(default=None, description="Zone queue the handler must run on.")
    target: str = Field(default="", description="Short name of what is touched (host), for summaries.")
    approval_timeout_s: float = Field(default=900, gt=0, description="How long a human has to decide.")
    review: Review = Field(default_factory=Review, description="Shown to the approver with the risks.")


class ApprovalRequest(Review):
    """What a human is asked to decide, exactly: GET /jobs/{id} shows it while the job waits."""

    intent: str
    risks: list[str]
    requested_by: str | None = Field(default=None, description="Principal that sent the request.")
    requested_at: datetime
    expires_at: datetime
    fingerprint: str = Field(
        description="SHA-256 of the canonical JSON of [intent, inputs]; send it back with the decision to bind it."
    )


class DecisionKind(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INLINE = "inline_confirmed"


class DecisionBody(BaseModel):
    """Body of POST /jobs/{id}/approve|reject. Who decides is not in it: that is the calling key's name."""

    reason: str | None = Field(default=None, max_length=1000, description="Why; recorded with the decision.")
    note: str | None = Field(
        default=None,
        max_length=200,
        # `approver` was the seed's field for a declared name: it is accepted, and kept as a note only.
        validation_alias=AliasChoices("note", "approver"),
        description="Free text recorded next to the approver (e.g. 'on behalf of the on-call'); never replaces "
        "the approver, which is the name of the key that decides.",
    )
    fingerprint: str | None = Field(
        default=None,
        pattern=FINGERPRINT_PATTERN,
        description="The fingerprint the approver reviewed (from GET /jobs/{id}); a different one is a 409 ApprovalMismatch.",
    )


class DecisionRequest(BaseModel):
    """The `approve` / `reject` update's argument: the body, plus the approver the gateway read from the key."""

    reason: str | None = Field(default=None, max_length=1000)
    approver: str | None = Field(
        default=None, max_length=128, description="The deciding key's name (set by the gateway)."
    )
    note: str | None = Field(default=None, max_length=200, description="Free text from the decider; not an identity.")
    fingerprint: str | None = Field(
        default=None,
        pattern=FINGERPRINT_PATTERN,
        description="The fingerprint the approver reviewed (from GET /jobs/{id}); a different one is a 409 ApprovalMismatch.",
    )


class Approval(BaseModel):
    """The recorded decision; passed to the handler activity as its second argument."""

    decision: DecisionKind
    approver: str = Field(description="The name of the key that decided (or `timer`, for an expiry).")
    reason: str | None = None
    note: str | None = Field(default=None, description="Free text the decider added; not an identity.")
    decided_at: datetime
    fingerprint: str | None = Field(default=None, description="The request fingerprint this decision is bound to.")


# --- approval.request: a pure human gate ------------------------------------------------

APPROVAL_INTENT = "approval.request"
APPROVAL_PREFLIGHT = "approval.preflight"
MAX_APPROVAL_EXPIRES_S = 7 * 24 * 3600


class ApprovalGateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=2000, description="What the human is asked to approve.")
    expires_s: int = Field(
        default=3600,
        ge=1,
        le=MAX_APPROVAL_EXPIRES_S,
        description="Seconds to decide (at most 7 days); then it expires.",
    )


INTENTS = [
    IntentSpec(
        name=APPROVAL_INTENT,
        mode=Mode.WORKER,
        description="Wait for a human to approve (POST /jobs/{job_id}/approve) or reject; nothing else happens. "
        "As a GPT workflow step it gates its dependents: approved -> the step's output is the decision; "
        "rejected or expired -> the step fails.",
        input_model=ApprovalGateInput,
        output_model=Approval,
        activity=APPROVAL_INTENT,
        local_activity=True,  # pure: returns the recorded decision
        preflight_activity=APPROVAL_PREFLIGHT,
        read_only=False,
        timeout=timedelta(seconds=30),
        example={"message": "Publish the release notes?", "expires_s": 3600},
        summarize=lambda inp: quote_short(inp.message),
        check_step_params=True,
    )
]
