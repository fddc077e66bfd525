"""The progress log each job's workflow keeps: what happened, in order, with a sequence number.

IntentWorkflow, GptWorkflow and FleetWorkflow append an event at every transition (a step started,
succeeded, failed, was skipped or cancelled; an approval is pending or decided; an LLM call's usage) and
answer the `progress` query with the events after a given sequence number. The gateway's SSE streams
(`GET /jobs/{id}/events`) are read from this log, so every gateway process serves the same events with
the same ids, and a client resumes exactly where it left off (`Last-Event-ID` = the sequence number).

The log lives in workflow memory only: it is rebuilt on replay from the same decisions, adds no command
and nothing to history (the query is answered by the worker). It is bounded: events carry excerpts, not
whole outputs, and only the newest MAX_KEPT are kept (`first_seq` says where the kept part starts).
Deterministic: timestamps come from `workflow.now()`, passed in by the caller.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

MAX_KEPT = 1000
EXCERPT_CHARS = 500
ERROR_CHARS = 500
MAX_PAGE = 500


class EventType(StrEnum):
    """The durable event types (the SSE `event:` names). `snapshot`, `output` and `done` are the gateway's."""

    STEP = "step"
    APPROVAL = "approval"
    USAGE = "usage"


class StepPhase(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    NOT_RUN = "not_run"  # a step whose waitFor failed, or pending when the run stopped


class ApprovalPhase(StrEnum):
    PENDING = "pending"
    DECIDED = "decided"


class ProgressEvent(BaseModel):
    seq: int = Field(description="Increases by one per event within the job; the SSE `id:`.")
    type: EventType
    at: datetime
    data: dict[str, Any]


class ProgressQuery(BaseModel):
    after: int = Field(default=0, ge=0, description="Events with a larger seq than this.")
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)
    with_state: bool = Field(default=False, description="Also the workflow's own status (for a snapshot).")


class ProgressPage(BaseModel):
    first_seq: int = Field(description="The oldest seq still kept (older events were dropped: the log is bounded).")
    last_seq: int = Field(description="The newest seq so far (0: nothing happened yet).")
    events: list[ProgressEvent]
    state: Any = Field(default=None, description="The workflow's status at last_seq (with_state).")


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str | None:
    """The start of an output, as text (JSON for structured outputs), cut to `limit` characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields: events stay small."""
    return {k: v for k, v in data.items() if v is not None}


class ProgressLog:
    def __init__(self) -> None:
        self._events: deque[ProgressEvent] = deque(maxlen=MAX_KEPT)
        self.last_seq = 0

    def add(self, type: EventType, at: datetime, data: dict[str, Any]) -> ProgressEvent:
        self.last_seq += 1
        event = ProgressEvent(seq=self.last_seq, type=type, at=at, data=compact(data))
        self._events.append(event)
        return event

    @property
    def first_seq(self) -> int:
        return self._events[0].seq if self._events else self.last_seq + 1

    def page(self, query: ProgressQuery, state: Any = None) -> ProgressPage:
        events = [e for e in self._events if e.seq > query.after][: query.limit]
        return ProgressPage(first_seq=self.first_seq, last_seq=self.last_seq, events=events, state=state)
