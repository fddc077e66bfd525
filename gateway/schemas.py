"""The HTTP contract: request and response models (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intents.approval import Approval, ApprovalRequest
from intents.schedules import Overlap, Target
from intents.spec import RequestedMode
from intents.usage import Usage


class OrchestrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    intent: str = Field(min_length=1, max_length=200, description="Intent name, e.g. memory.write (see GET /intents).")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The intent's inputs (schema in GET /intents).")
    mode: RequestedMode = Field(default=RequestedMode.AUTO, description="auto picks the intent's engine.")
    async_: bool = Field(
        default=False, alias="async", description="true: answer 202 at once and run in the background."
    )
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
    approval: Approval | None = Field(default=None, description="After POST /jobs/{id}/approve: the recorded decision.")


class OrchestrateAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    job_id: str
    intent: str
    mode: str
    approval: Approval | None = Field(default=None, description="After POST /jobs/{id}/approve: the recorded decision.")


class AwaitingApproval(BaseModel):
    status: Literal["awaiting_approval"] = "awaiting_approval"
    job_id: str
    intent: str
    mode: str
    host: str | None = None
    command: str | None = None
    risk: list[str]
    expires_at: datetime | None
    approval_request: ApprovalRequest | None = Field(
        default=None,
        description="Exactly what is to be approved: command, host, user, risks, who asked, when, fingerprint.",
    )


class DecisionRecorded(BaseModel):
    """A successful reject: the decision is recorded and nothing runs."""

    status: Literal["rejected"] = "rejected"
    job_id: str
    intent: str
    mode: str
    approval: Approval


class StepAwaitingApproval(BaseModel):
    """A step of a GPT workflow whose own job waits for a human: approve or reject `job_id`."""

    step_id: str
    state: Literal["awaiting_approval"] = "awaiting_approval"
    job_id: str
    approval: ApprovalRequest


class ErrorResponse(BaseModel):
    status: Literal["error"] = "error"
    job_id: str | None = None
    error: ErrorInfo
    job_status: JobStatus | None = Field(
        default=None,
        description="When a job's own failure is the answer: how it ended (error, rejected, cancelled, ...).",
    )
    approval: Approval | None = Field(default=None, description="After POST /jobs/{id}/approve: the recorded decision.")


class JobView(BaseModel):
    """Fields without a value are left out (a running job has no `closed_at` or `duration_ms`)."""

    job_id: str
    intent: str | None = None
    mode: str | None = None
    requested_by: str | None = Field(default=None, description="The name of the key that started the job.")
    tenant: str | None = Field(default=None, description="The tenant the job belongs to (its requesting key's).")
    status: JobStatus
    summary: str | None = Field(default=None, description="The run's one-line summary, as the Web UI shows it.")
    inputs: Any = Field(default=None, description="What the job was asked, secrets redacted (as the Web UI shows it).")
    result: Any = None
    error: ErrorInfo | None = None
    risk: list[str] | None = None
    expires_at: datetime | None = None
    approval: dict[str, Any] | None = None
    approval_request: ApprovalRequest | None = Field(
        default=None,
        description="While awaiting approval: exactly what is to be approved (see POST /jobs/{id}/approve).",
    )
    steps_awaiting_approval: list[StepAwaitingApproval] | None = Field(
        default=None, description="GPT workflow jobs: steps whose own job awaits a human decision."
    )
    schedule_id: str | None = Field(default=None, description="A scheduled run: the schedule that started it.")
    started_at: datetime | None = None
    closed_at: datetime | None = Field(default=None, description="Only once the job has ended.")
    duration_ms: int | None = Field(default=None, description="Only once the job has ended.")
    usage: Usage | None = Field(default=None, description="GPT workflow and fleet jobs: tokens and cost, added up.")


class JobKindName(StrEnum):
    INTENT = "intent"
    GPT_WORKFLOW = "gpt_workflow"
    FLEET = "fleet"


class JobListItem(BaseModel):
    """One job as GET /jobs lists it: read from Temporal visibility, without asking any worker."""

    job_id: str
    kind: JobKindName
    intent: str | None = None
    status: JobStatus
    summary: str = Field(description="The run's one-line summary.")
    requested_by: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    duration_ms: int | None = None


class JobList(BaseModel):
    jobs: list[JobListItem] = Field(description="Newest first.")
    next_page_token: str | None = Field(default=None, description="`page_token` of the next page (same filters).")


class FleetAccepted(BaseModel):
    """A fleet run still going after `wait`: poll GET /jobs/{workflow_id}."""

    status: Literal["accepted"] = "accepted"
    workflow_id: str
    category: str


class TemporalHealth(BaseModel):
    ok: bool
    address: str
    namespace: str


class WorkerHealth(BaseModel):
    polling: bool
    task_queue: str
    pollers: int | None = Field(
        default=None, description="Pollers seen within the last long-poll (only when Temporal answered)."
    )


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    gateway: Literal["ok"] = "ok"
    temporal: TemporalHealth
    worker: WorkerHealth


class ScheduleRun(BaseModel):
    """One run of a schedule: an ordinary job (GET /jobs/{job_id})."""

    job_id: str
    scheduled_at: datetime
    started_at: datetime
    status: JobStatus


class ScheduleView(BaseModel):
    """A schedule as GET /schedules/{id} shows it: what runs, when, what comes next and what ran."""

    schedule_id: str
    target: Target
    intent: str
    mode: str
    inputs: dict[str, Any] = Field(description="Each run's inputs (secret-looking keys as ***).")
    cron: str | None = None
    every: str | None = None
    timezone: str
    jitter_s: float
    overlap: Overlap
    start_at: datetime | None = None
    end_at: datetime | None = None
    note: str | None = None
    paused: bool
    callback_url: str | None = None
    requested_by: str | None = Field(default=None, description="Who created it; runs carry this identity.")
    tenant: str | None = None
    job_id_prefix: str = Field(description="A run's job_id: this + its scheduled time (UTC).")
    created_at: datetime
    updated_at: datetime | None = None
    next_run_times: list[datetime] = Field(description="The next 5 run times (UTC).")
    recent_runs: list[ScheduleRun] = Field(description="Up to 10, newest first.")
    runs: int = Field(description="Runs started so far.")
    skipped_overlap: int = Field(description="Runs skipped: the last one still ran.")
    missed_catchup_window: int = 0


class ScheduleList(BaseModel):
    schedules: list[ScheduleView]


class ScheduleTriggered(BaseModel):
    status: Literal["accepted"] = "accepted"
    schedule_id: str
    job_id: str | None = Field(default=None, description="The run it started (when seen at once).")


class ScheduleBackfilled(BaseModel):
    status: Literal["accepted"] = "accepted"
    schedule_id: str
    skipped_job_ids: list[str] = Field(
        description="Scheduled times in the window whose job already succeeded: not run again."
    )


class ScheduleDeleted(BaseModel):
    status: Literal["deleted"] = "deleted"
    schedule_id: str
