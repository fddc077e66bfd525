"""What an intent declaration is made of.

An `IntentSpec` is the single declaration of an intent: validation (gateway), routing and
timeouts/retries (workflow), `GET /intents` and the OpenAPI examples all read it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.errors import NotConfigured
from intents.errors import ErrorType
from intents.text import truncate_utf8


class Mode(StrEnum):
    """Which engine holds an intent's handler. The wire value of WORKER stays "agent" (the seed's name,
    which clients already send); in code it is WORKER so it is not confused with GPT agents."""

    WORKER = "agent"  # our own worker's activities (Chroma, asyncssh, LLM)
    FLOW = "flow"  # n8n webhooks
    MCP = "mcp"  # MCP tool servers


class RequestedMode(StrEnum):
    AUTO = "auto"
    WORKER = "agent"
    FLOW = "flow"
    MCP = "mcp"


class RetrySpec(BaseModel):
    """A JSON-friendly retry policy (also what a GPT workflow step may carry)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=100, description="Attempts in all, 1 = no retry.")
    initial_interval_s: float = Field(default=0.5, ge=0.01, le=3600)
    backoff: float = Field(default=2.0, ge=1, le=10)
    max_interval_s: float = Field(default=30, ge=0.01, le=86400)

    def to_policy(self, non_retryable: list[str] | None = None):
        from temporalio.common import RetryPolicy

        # Temporal refuses a maximum below the initial interval (the command fails, not the request):
        # the maximum is never less than the initial interval.
        return RetryPolicy(
            maximum_attempts=self.max_attempts,
            initial_interval=timedelta(seconds=self.initial_interval_s),
            backoff_coefficient=self.backoff,
            maximum_interval=timedelta(seconds=max(self.max_interval_s, self.initial_interval_s)),
            non_retryable_error_types=non_retryable or None,
        )


def _default_summary(inputs: BaseModel) -> str:
    return ""


class IntentSpec(BaseModel):
    """One intent, declared once."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    mode: Mode
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel] | None = None
    activity: str = Field(default="", description="Activity type name that handles it.")
    child_workflow: str | None = Field(
        default=None, description="Workflow type that handles it instead (multi-step intents), run as a child."
    )
    read_only: bool = Field(description="True when it changes nothing in the world.")
    timeout: timedelta = timedelta(seconds=30)
    heartbeat_timeout: timedelta | None = None
    # The fast path: the handler runs as a *local* activity, inside the workflow task of the worker that
    # runs the job (no task dispatch, no extra round trip; with an eager start the whole job is one
    # workflow task). Only for handlers that are quick (well under the workflow task timeout), local to
    # the worker (no zone), need no heartbeat, and are safe to run again: a local activity re-runs when
    # its workflow task fails. LOCAL_ACTIVITY_INTENTS narrows it per worker (the way back).
    local_activity: bool = False
    retry: RetrySpec = RetrySpec()
    example: dict[str, Any] = Field(default_factory=dict)
    # One line for the Web UI, from validated inputs: e.g. memory.write: "I prefer Python".
    summarize: Callable[[Any], str] = _default_summary
    # Semantic checks the gateway runs on validated inputs before starting anything: called as
    # precheck(inputs, settings); may read config, no network. Raise RequestRejected -> HTTP 400 naming
    # the field. Activities re-check (defence in depth).
    precheck: Callable[[Any, Any], None] | None = None
    # Optional activity run before the handler; returns a Preflight. Risks => the job waits for a
    # human approval (update) before the handler runs; task_queue => the handler runs in that zone.
    preflight_activity: str | None = None
    # GPT workflow create-time check: a step calling this intent has its literal params validated
    # against input_model (400 naming `steps[i].params.<field>`); templated values are checked when they
    # run (a failure fails that step with ValidationError). Every intent does this unless it opts out.
    check_step_params: bool = True
    # Its handler keeps tenants apart (memory.*): the workflow adds the job's tenant (from the key that
    # started it) to the handler's argument as `tenant`, at the call; clients never set it (intents/tenancy.py).
    tenant_scoped: bool = False
    # Builds the handler activity's single argument from (intent, validated inputs as JSON, job_id).
    # Pure. None = the inputs themselves. Flow and MCP intents share one activity and need the name.
    build_call: Callable[[str, dict[str, Any], str], Any] | None = None

    @model_validator(mode="after")
    def _local_activity_fits(self) -> IntentSpec:
        if self.local_activity and (not self.activity or self.child_workflow or self.heartbeat_timeout):
            raise ValueError(
                f"intent {self.name!r}: local_activity needs a handler activity that runs without heartbeats "
                "(no child_workflow, no heartbeat_timeout)"
            )
        return self

    @property
    def consequential(self) -> bool:
        return not self.read_only

    def summary_for(self, inputs: BaseModel) -> str:
        detail = self.summarize(inputs)
        line = f"{self.name}: {detail}" if detail else self.name
        return truncate_utf8(line, 200)

    def activity_arg(self, inputs: dict[str, Any], job_id: str) -> Any:
        return self.build_call(self.name, inputs, job_id) if self.build_call else inputs

    def public(self) -> dict[str, Any]:
        """What GET /intents shows."""
        return {
            "name": self.name,
            "mode": str(self.mode),
            "description": self.description,
            "read_only": self.read_only,
            "timeout_s": self.timeout.total_seconds(),
            "input_schema": self.input_model.model_json_schema(),
            "output_schema": self.output_model.model_json_schema() if self.output_model else None,
            "example": self.example,
        }


class RequestRejected(ValueError):
    """A request that is well-formed but not allowed (unknown host, shell metacharacters, ...)."""

    def __init__(self, error_type: str, message: str, *, field: str | None = None, details: Any = None):
        self.error_type = error_type
        self.field = field
        self.details = details
        super().__init__(message)


# What each kind of missing configuration is called when a request names it.
_LOOKUP_ERRORS = {"host": ErrorType.UNKNOWN_HOST, "agent": ErrorType.UNKNOWN_AGENT, "category": ErrorType.UNKNOWN_AGENT}


def rejected_lookup(err: NotConfigured) -> RequestRejected:
    """A request named a host, agent or fleet the configuration lacks: a 400 naming the field."""
    details = {"known_hosts": err.known} if err.kind == "host" else {"suggestions": err.suggestions}
    return RequestRejected(
        _LOOKUP_ERRORS.get(err.kind, ErrorType.NOT_FOUND), str(err), field=err.field, details=details
    )
