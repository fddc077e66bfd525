"""Flow-mode intents: work done by n8n workflows behind webhooks (gmail.*, slack.*, digest.*, calendar.*,
notes.*, tasks.*, code.*).

Each intent's webhook path is declared once, in FLOW_WEBHOOK_PATHS; the URL is always
`settings.n8n_base_url + "/" + path`, never anything from the request. The shipped exports live in
`n8n_workflows/<path>.json`. Request and response follow the canonical envelope:

    in:  {"intent": ..., "inputs": {...}, "job_id": ..., "dry_run": bool}
    out: {"ok": true, "result": {...}}  or  {"ok": false, "error": {"type": ..., "message": ...}}
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from intents.spec import IntentSpec, Mode, RetrySpec
from intents.text import quote_short

FLOW_ACTIVITY = "flow.webhook"

# intent -> n8n webhook path (the Webhook node's `path`); one line per flow.
FLOW_WEBHOOK_PATHS: dict[str, str] = {
    "gmail.triage": "gmail-triage",
    "gmail.search": "gmail-search",
    "slack.summarize": "slack-summarize",
    "digest.daily": "digest-daily",
    "calendar.schedule": "calendar-schedule",
    "notes.sync": "notes-sync",
    "tasks.create": "tasks-create",
    "code.review": "code-review",
}
# Flows whose apply step is not idempotent (a second POST would make a second comment, issue or block):
# once their webhook was called for real (dry_run false), a lost answer is not retried blindly.
NOT_IDEMPOTENT_WHEN_APPLIED = frozenset({"notes.sync", "tasks.create", "code.review"})

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


# --- calendar.schedule ------------------------------------------------------------------------
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
MAX_EVENT = timedelta(days=14)


class CalendarScheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="The event's title.")
    start: AwareDatetime = Field(description="Start, ISO-8601 with a UTC offset, e.g. 2026-12-01T10:00:00+01:00.")
    end: AwareDatetime = Field(description="End, after start (at most 14 days later).")
    attendees: list[Email] = Field(default_factory=list, max_length=50, description="Guests' email addresses.")
    description: str = Field(default="", max_length=8000)
    location: str = Field(default="", max_length=500)
    calendar_id: str = Field(
        default="primary", min_length=1, max_length=200, pattern=r"^[^/\s]+$", description="'primary' or a calendar id."
    )
    dry_run: bool = Field(
        default=True, description="Preview (default): lists conflicts, creates nothing. false: create the event."
    )

    _title = field_validator("title")(classmethod(lambda cls, v: _not_blank(v)))

    @field_validator("end")
    @classmethod
    def _window(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        if start is not None and end - start > MAX_EVENT:
            raise ValueError("an event lasts at most 14 days")
        return end


class CalendarEvent(BaseModel):
    id: str | None = None
    title: str = ""
    start: str | None = None
    end: str | None = None
    html_link: str | None = None


class CalendarScheduleOutput(BaseModel):
    """Dry run: the conflicts and the event that would be made. Applied: the event made (or the one this job already made)."""

    dry_run: bool
    conflicts: list[CalendarEvent] = Field(default_factory=list, description="Busy events overlapping the slot.")
    would_create: CalendarEvent | None = None
    event: CalendarEvent | None = None


# --- notes.sync -------------------------------------------------------------------------------
class NotesSyncInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
                             description="The Notion database the page lives in (its id, shared with the integration).")  # fmt: skip
    title: str = Field(
        min_length=1, max_length=200, description="The page's title: a page with this title is updated, else created."
    )
    content: str = Field(min_length=1, max_length=20_000, description="Text to write; blank lines separate paragraphs.")
    title_property: str = Field(
        default="Name", min_length=1, max_length=100, description="The database's title property."
    )
    dry_run: bool = Field(
        default=True, description="Preview (default): says whether it would create or update. false: write it."
    )

    _title = field_validator("title", "content")(classmethod(lambda cls, v: _not_blank(v)))


class NotesSyncOutput(BaseModel):
    dry_run: bool
    action: Literal["create", "update"] = Field(
        description="create: no page has this title yet; update: content is appended to it."
    )
    title: str
    page_id: str | None = None
    url: str | None = None
    blocks: int = Field(description="Paragraph blocks written (or that would be).")


# --- tasks.create -----------------------------------------------------------------------------
Repo = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class TasksCreateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Literal["todoist", "github"] = Field(
        description="todoist: a Todoist task; github: a GitHub issue in `repo`."
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=10_000)
    repo: Repo | None = Field(default=None, validate_default=True, description="github: owner/name of the repository.")
    labels: list[Label] = Field(default_factory=list, max_length=10)
    assignees: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,39}$")]] = Field(
        default_factory=list, max_length=10, description="github: logins to assign.")  # fmt: skip
    project: str | None = Field(
        default=None, min_length=1, max_length=120, description="todoist: project name (default: Inbox)."
    )
    due: str | None = Field(
        default=None, min_length=1, max_length=100, description="todoist: due date in words, e.g. 'tomorrow 9am'."
    )
    priority: int = Field(default=1, ge=1, le=4, description="todoist: 1 (normal) to 4 (urgent).")
    dry_run: bool = Field(
        default=True, description="Preview (default): checks the target and shows the task. false: create it."
    )

    _title = field_validator("title")(classmethod(lambda cls, v: _not_blank(v)))

    @field_validator("repo", "assignees")
    @classmethod
    def _github_only(cls, value: Any, info: ValidationInfo) -> Any:
        service = info.data.get("service")
        if service == "github" and info.field_name == "repo" and value is None:
            raise ValueError("repo (owner/name) is required for a GitHub issue")
        if service == "todoist" and value:
            raise ValueError(f"{info.field_name} is for GitHub issues, not Todoist tasks")
        return value

    @field_validator("project", "due")
    @classmethod
    def _todoist_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("service") == "github" and value is not None:
            raise ValueError(f"{info.field_name} is for Todoist tasks, not GitHub issues")
        return value


class CreatedTask(BaseModel):
    id: str | None = None
    url: str | None = None
    title: str
    where: str = Field(description="The Todoist project or the GitHub repository.")


class TasksCreateOutput(BaseModel):
    dry_run: bool
    service: Literal["todoist", "github"]
    would_create: CreatedTask | None = None
    created: CreatedTask | None = None


# --- code.review ------------------------------------------------------------------------------
class CodeReviewInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: Repo = Field(description="owner/name of the GitHub repository.")
    pr: int = Field(ge=1, le=10_000_000, description="The pull request number.")
    focus: str = Field(default="", max_length=500, description="What to look at in particular (security, tests, ...).")
    model: str = Field(default="gpt-4o-mini", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    max_diff_chars: int = Field(
        default=60_000, ge=1000, le=200_000, description="The diff is cut to this many characters."
    )
    comment: str | None = Field(default=None, min_length=1, max_length=60_000,
                                description="Apply: post exactly this comment (the one a dry run showed) instead of a new review.")  # fmt: skip
    dry_run: bool = Field(
        default=True, description="Preview (default): returns the review comment, posts nothing. false: post it."
    )


class CodeReviewOutput(BaseModel):
    dry_run: bool
    comment: str = Field(description="The review comment (posted, or that would be posted).")
    diff_chars: int | None = Field(
        default=None, description="Characters of diff reviewed (none when the comment was given)."
    )
    truncated: bool = False
    comment_id: str | None = None
    url: str | None = None


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
    IntentSpec(
        name="calendar.schedule",
        mode=Mode.FLOW,
        description=(
            "Create a Google Calendar event. Dry run by default: lists conflicting events and the event it would "
            "create; call again with dry_run=false to create it."
        ),
        input_model=CalendarScheduleInput,
        output_model=CalendarScheduleOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=False,
        timeout=timedelta(seconds=90),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={
            "title": "Design review",
            "start": "2026-12-01T10:00:00+01:00",
            "end": "2026-12-01T10:30:00+01:00",
            "attendees": ["alice@example.com"],
            "dry_run": True,
        },
        summarize=lambda i: (
            f"{'preview' if i.dry_run else 'create'} {quote_short(i.title, 60)} at {i.start.isoformat()}"
        ),
    ),
    IntentSpec(
        name="notes.sync",
        mode=Mode.FLOW,
        description=(
            "Create or update a Notion page by title in a database (content is appended to an existing page). "
            "Dry run by default: says create or update; dry_run=false writes it."
        ),
        input_model=NotesSyncInput,
        output_model=NotesSyncOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=False,
        timeout=timedelta(seconds=90),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={
            "database_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "title": "Weekly notes",
            "content": "Shipped schedules.\n\nNext: calendar flows.",
            "dry_run": True,
        },
        summarize=lambda i: f"{'preview' if i.dry_run else 'write'} {quote_short(i.title, 60)}",
    ),
    IntentSpec(
        name="tasks.create",
        mode=Mode.FLOW,
        description=(
            "Create a Todoist task or a GitHub issue. Dry run by default: checks the project or repository and "
            "shows the task; dry_run=false creates it."
        ),
        input_model=TasksCreateInput,
        output_model=TasksCreateOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=False,
        timeout=timedelta(seconds=90),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={
            "service": "github",
            "repo": "octo-org/website",
            "title": "Fix the broken footer link",
            "labels": ["bug"],
            "dry_run": True,
        },
        summarize=lambda i: f"{'preview' if i.dry_run else 'create'} {i.service} {quote_short(i.title, 60)}",
    ),
    IntentSpec(
        name="code.review",
        mode=Mode.FLOW,
        description=(
            "Review a GitHub pull request: fetch its diff, have an LLM review it, post the comment. Dry run by "
            "default: returns the comment; post it with dry_run=false and comment=<the previewed text>."
        ),
        input_model=CodeReviewInput,
        output_model=CodeReviewOutput,
        activity=FLOW_ACTIVITY,
        build_call=flow_call,
        read_only=False,
        timeout=timedelta(seconds=180),
        heartbeat_timeout=FLOW_HEARTBEAT,
        retry=FLOW_RETRY,
        example={"repo": "octo-org/website", "pr": 42, "focus": "security", "dry_run": True},
        summarize=lambda i: f"{'preview' if i.dry_run else 'post'} review of {i.repo}#{i.pr}",
    ),
]

assert {s.name for s in INTENTS} == set(FLOW_WEBHOOK_PATHS), "every flow intent needs exactly one webhook path"
