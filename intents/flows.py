"""Flow-mode intents: work done by n8n workflows behind webhooks (gmail.*, slack.*, digest.*).

Each intent's webhook path is declared once, in FLOW_WEBHOOK_PATHS; the URL is always
`settings.n8n_base_url + "/" + path`, never anything from the request. The shipped exports live in
`n8n_workflows/<path>.json`. Request and response follow the canonical envelope:

    in:  {"intent": ..., "inputs": {...}, "job_id": ..., "dry_run": bool}
    out: {"ok": true, "result": {...}}  or  {"ok": false, "error": {"type": ..., "message": ...}}
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from intents.spec import IntentSpec, Mode, RetrySpec
from intents.text import quote_short

FLOW_ACTIVITY = "flow.webhook"

# intent -> n8n webhook path (the Webhook node's `path`); one line per flow.
FLOW_WEBHOOK_PATHS: dict[str, str] = {
    "gmail.triage": "gmail-triage",
    "gmail.search": "gmail-search",
    "slack.summarize": "slack-summarize",
    "digest.daily": "digest-daily",
}

_RELATIVE_SINCE = re.compile(r"^[1-9][0-9]{0,3}[mhd]$")
MAX_SINCE = timedelta(days=31)


def _check_since(value: str) -> str:
    """`since` is a look-back like 24h / 7d / 90m, or an ISO-8601 date or datetime."""
    value = value.strip()
    if _RELATIVE_SINCE.match(value):
        amount, unit = int(value[:-1]), value[-1]
        span = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
        if span > MAX_SINCE:
            raise ValueError("since looks back at most 31 days")
        return value
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("since must be a look-back like '24h', '7d', '90m' or an ISO-8601 date/datetime") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


GmailQuery = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SlackChannel = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^#?[A-Za-z0-9._-]{1,80}$")]


class FlowCall(BaseModel):
    """The argument of the `flow.webhook` activity (built by the IntentWorkflow)."""

    intent: str
    inputs: dict[str, Any]
    job_id: str


# --- gmail.triage ---------------------------------------------------------------------------
class GmailTriageInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: GmailQuery = Field(description="Gmail search, e.g. 'is:unread older_than:2d'.")
    label: str = Field(min_length=1, max_length=225, description="Label to apply, by name, e.g. 'INBOX/Processed'.")
    dry_run: bool = Field(default=True, description="Preview only (default). Set false to apply the label.")
    batch_size: int = Field(default=50, ge=1, le=500, description="Messages labelled per batch.")
    max_messages: int = Field(default=200, ge=1, le=1000, description="At most this many messages per run.")

    _query = field_validator("query")(classmethod(lambda cls, v: _not_blank(v)))
    _label = field_validator("label")(classmethod(lambda cls, v: _not_blank(v)))


class GmailMessageSummary(BaseModel):
    id: str
    thread_id: str | None = None
    subject: str = ""
    sender: str = ""
    date: str | None = None
    snippet: str = ""


class GmailTriageOutput(BaseModel):
    """A preview (dry run) or the outcome of applying the label."""

    dry_run: bool
    found: int | None = Field(default=None, description="Dry run: messages matching the query.")
    would_apply_label: str | None = Field(default=None, description="Dry run: the label that would be applied.")
    preview: list[GmailMessageSummary] | None = Field(default=None, description="Dry run: the first matches.")
    labeled: int | None = Field(default=None, description="Applied: messages that now carry the label.")
    label: str | None = None


# --- gmail.search ---------------------------------------------------------------------------
class GmailSearchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: GmailQuery = Field(description="Gmail search, e.g. 'from:alice has:attachment'.")
    max_results: int = Field(default=10, ge=1, le=100, description="How many messages at most.")

    _query = field_validator("query")(classmethod(lambda cls, v: _not_blank(v)))


class GmailSearchOutput(BaseModel):
    found: int
    messages: list[GmailMessageSummary]


# --- slack.summarize ------------------------------------------------------------------------
class SlackSummarizeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[SlackChannel] = Field(min_length=1, max_length=20, description="Channel ids or #names.")
    since: str = Field(default="24h", max_length=40, description="Look-back (24h, 7d) or ISO-8601 start.")

    _since = field_validator("since")(classmethod(lambda cls, v: _check_since(v)))


class ChannelSummary(BaseModel):
    channel: str
    messages: int
    participants: int
    highlights: list[str] = Field(default_factory=list)


class SlackSummarizeOutput(BaseModel):
    since: str
    channels: list[ChannelSummary]
    summary: str


# --- digest.daily ---------------------------------------------------------------------------
class DigestDailyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str = Field(default="24h", max_length=40, description="Look-back (24h, 7d) or ISO-8601 start.")
    tags: list[Tag] = Field(default_factory=list, max_length=32, description="Only items with any of these tags.")

    _since = field_validator("since")(classmethod(lambda cls, v: _check_since(v)))


class DigestSection(BaseModel):
    title: str
    items: list[str]


class DigestDailyOutput(BaseModel):
    since: str
    tags: list[str] = Field(default_factory=list)
    sections: list[DigestSection]
    summary: str


FLOW_RETRY = RetrySpec(max_attempts=4, initial_interval_s=1, max_interval_s=20)
FLOW_HEARTBEAT = timedelta(seconds=30)


def _triage_summary(i: GmailTriageInput) -> str:
    verb = "preview" if i.dry_run else "apply"
    return f"{verb} label {quote_short(i.label, 40)} on {quote_short(i.query)}"


def flow_call(intent: str, inputs: dict[str, Any], job_id: str) -> FlowCall:
    return FlowCall(intent=intent, inputs=inputs, job_id=job_id)


INTENTS = [
    IntentSpec(
        name="gmail.triage",
        mode=Mode.FLOW,
        description=(
            "Find Gmail messages by query and label them. Dry run by default: returns a preview "
            "(found, would_apply_label); call again with dry_run=false to apply the label."
        ),
        input_model=GmailTriageInput,
        output_model=GmailTriageOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        # It changes the mailbox when dry_run=false; the dry-run default keeps the first call harmless.
        read_only=False,
        timeout=timedelta(seconds=120),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={"query": "is:unread older_than:2d", "label": "INBOX/Processed", "dry_run": True},
        summarize=_triage_summary,
    ),
    IntentSpec(
        name="gmail.search",
        mode=Mode.FLOW,
        description="Search Gmail and list matching messages (subject, sender, date, snippet).",
        input_model=GmailSearchInput,
        output_model=GmailSearchOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=True,
        timeout=timedelta(seconds=60),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={"query": "from:alice has:attachment", "max_results": 5},
        summarize=lambda i: quote_short(i.query),
    ),
    IntentSpec(
        name="slack.summarize",
        mode=Mode.FLOW,
        description="Digest recent activity of Slack channels: message counts, participants, highlights.",
        input_model=SlackSummarizeInput,
        output_model=SlackSummarizeOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=True,
        timeout=timedelta(seconds=90),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={"channels": ["#general", "#ops"], "since": "24h"},
        summarize=lambda i: f"{', '.join(i.channels[:3])}{'…' if len(i.channels) > 3 else ''} since {i.since}",
    ),
    IntentSpec(
        name="digest.daily",
        mode=Mode.FLOW,
        description="A daily digest of what arrived since a point in time, optionally limited to tags.",
        input_model=DigestDailyInput,
        output_model=DigestDailyOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=True,
        timeout=timedelta(seconds=120),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={"since": "24h", "tags": ["work"]},
        summarize=lambda i: f"since {i.since}" + (f" tags {', '.join(i.tags[:3])}" if i.tags else ""),
    ),
]

assert {s.name for s in INTENTS} == set(FLOW_WEBHOOK_PATHS), "every flow intent needs exactly one webhook path"
