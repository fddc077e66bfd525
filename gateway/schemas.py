"""The HTTP contract: request and response models (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intents.spec import RequestedMode


class OrchestrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    intent: str = Field(min_length=1, max_length=200, description="Intent name, e.g. memory.write (see GET /intents).")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The intent's inputs (schema in GET /intents).")
    mode: RequestedMode = Field(default=RequestedMode.AUTO, description="auto picks the intent's engine.")
    async_: bool = Field(default=False, alias="async", description="true: answer 202 at once and run in the background.")
    callback_url: str | None = Field(
        default=None, max_length=2000, description="POSTed the final job document (signed) when the job ends."
    )


class ErrorInfo(BaseModel):
    type: str
    message: str
    field: str | None = None
    details: Any = None


class JobStatus(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCESS = "success"
    ERROR = "error"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    TERMINATED = "terminated"


class OrchestrateSuccess(BaseModel):
    status: Literal["success"] = "success"
    job_id: str
    intent: str
    mode: str
    result: Any
    duration_ms: int


class OrchestrateAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    job_id: str
    intent: str
    mode: str


class AwaitingApproval(BaseModel):
    status: Literal["awaiting_approval"] = "awaiting_approval"
    job_id: str
    intent: str
    mode: str
    host: str | None = None
    command: str | None = None
    risk: list[str]
    expires_at: datetime | None


class ErrorResponse(BaseModel):
    status: Literal["error"] = "error"
    job_id: str | None = None
    error: ErrorInfo


class JobView(BaseModel):
    job_id: str
    intent: str | None
    mode: str | None
    status: JobStatus
    result: Any = None
    error: ErrorInfo | None = None
    risk: list[str] | None = None
    expires_at: datetime | None = None
    approval: dict[str, Any] | None = None
    started_at: datetime | None
    closed_at: datetime | None
    duration_ms: int | None
