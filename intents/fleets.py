"""Models of fleet orchestration: one objective to every agent of a category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from intents.usage import Usage

FLEET_ACTIVITY = "agents.fleet"


class FleetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=80, description="The fleet (agent category), case-insensitive.")
    objective: str = Field(min_length=1, max_length=20_000, description="What every agent in the fleet is asked.")
    parallel: bool = Field(default=True, description="true: all agents at once; false: one after another.")
    synthesize: str | None = Field(default=None, max_length=80, description="Agent that merges the outputs.")
    timeout_s: float = Field(default=120, ge=1, le=3600, description="Per-agent time limit (seconds, 1 to 3600).")
    remember: bool = Field(default=False, description="Store each answer as a memory (tag `fleet:<workflow_id>`).")


class FleetLookup(BaseModel):
    category: str


class FleetMembers(BaseModel):
    category: str = Field(description="The category's canonical spelling.")
    agents: list[str]


class FleetRun(BaseModel):
    """FleetWorkflow's input: the request, and its members when the starter already resolved them
    (the gateway does, at request time); otherwise the workflow looks them up itself."""

    request: FleetRequest
    members: FleetMembers | None = None


class AgentOutcomeStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class AgentOutcome(BaseModel):
    agent: str
    status: AgentOutcomeStatus = AgentOutcomeStatus.PENDING
    output: str | None = None
    error: str | None = None
    error_type: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    usage: Usage | None = None
    memory_id: str | None = Field(default=None, description="remember: its memory.")
    memory_error: str | None = Field(default=None, description="remember: why it was not stored.")


class FleetResult(BaseModel):
    category: str
    objective: str
    parallel: bool
    agents: list[AgentOutcome]
    synthesis: AgentOutcome | None = None
    succeeded: int = 0
    failed: int = 0
    usage: Usage = Field(default_factory=Usage, description="All agents' tokens and cost.")
