"""Schedules: the request models of `POST /schedules` and `PATCH /schedules/{id}`, and their checks.

A schedule runs one thing (an intent with its inputs, a GPT workflow definition, or a fleet objective)
on a cron expression or a fixed interval, as a Temporal Schedule. Everything here is pure: the gateway
turns a `ScheduleProblem` into a 422 naming its field, and builds the Temporal Schedule itself.

The cron dialect is the one both this module and Temporal read the same way: five fields (minute hour
day-of-month month day-of-week, with `*`, lists, ranges, steps and English names) or one of the macros
`@hourly @daily @weekly @monthly @yearly`. Temporal matches day-of-month AND day-of-week (classic cron:
OR), so an expression restricting both is refused rather than read two ways; Quartz's `L W # ?` are
refused too. Sub-minute schedules use `every` instead.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import available_timezones

from cronsim import CronSim, CronSimError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

# Schedule ids name a Temporal Schedule and prefix every run's job id (`sched-<id>-<time>`), so they
# stay short and within the job-id alphabet.
SCHEDULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
RUN_PREFIX = "sched-"
MAX_EVERY = timedelta(days=366)
MAX_JITTER_S = 86_400.0
MAX_BACKFILL = timedelta(days=31)
MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}  # fmt: skip
_CRON_CHARS = re.compile(r"^[0-9A-Za-z*,/\- ]+$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^(?:(\d{1,7})(ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d{1,7})(ms|s|m|h|d)")

ScheduleId = Annotated[str, StringConstraints(pattern=SCHEDULE_ID_PATTERN)]


class Overlap(StrEnum):
    """What happens when a run is due while the previous one still runs (Temporal's overlap policy)."""

    SKIP = "skip"  # the due run is skipped (counted in `skipped_overlap`)
    BUFFER_ONE = "buffer_one"  # it starts as soon as the running one ends; at most one waits
    ALLOW_ALL = "allow_all"  # it starts at once, alongside
    CANCEL_OTHER = "cancel_other"  # the running one is cancelled, then it starts


class Target(StrEnum):
    """What a schedule runs; each becomes an ordinary intent job."""

    INTENT = "intent"
    WORKFLOW = "workflow"  # a GPT workflow definition: the gpt.workflow intent
    FLEET = "fleet"  # a fleet objective: the fleet.orchestrate intent


TARGET_INTENT = {Target.WORKFLOW: "gpt.workflow", Target.FLEET: "fleet.orchestrate"}


class ScheduleProblem(ValueError):
    """A schedule request that fails a check across fields or against a setting: a 422 naming `field`."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def parse_every(value: Any) -> timedelta:
    """`every`: seconds (a number), or a duration such as "90s", "5m", "1h30m", "1d"."""
    if isinstance(value, bool):
        raise ValueError("every must be a number of seconds or a duration such as '30s', '5m', '1h30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.match(value.strip()):
        seconds = sum(int(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(value.strip()))
    else:
        raise ValueError("every must be a number of seconds or a duration such as '30s', '5m', '1h30m'")
    if not seconds == seconds or seconds <= 0:  # NaN or not positive
        raise ValueError("every must be more than 0 seconds")
    if seconds > MAX_EVERY.total_seconds():  # before any conversion: 1e308 and Infinity are numbers too
        raise ValueError("every is at most 366 days")
    if seconds != int(seconds):
        raise ValueError("every must be a whole number of seconds")
    return timedelta(seconds=int(seconds))


def format_every(every: timedelta) -> str:
    """The canonical spelling of an interval: 2s, 5m, 1h30m, 1d."""
    rest, out = int(every.total_seconds()), ""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


def check_cron(expression: str) -> str:
    """Raises ValueError naming what is wrong; returns the expression as given (trimmed)."""
    text = " ".join(expression.split())
    fields = MACROS.get(text.lower(), text)
    if not fields or not _CRON_CHARS.match(fields):
        raise ValueError(
            "cron takes five fields (minute hour day-of-month month day-of-week) with digits, names, * , - /, "
            "or @hourly/@daily/@weekly/@monthly/@yearly; L, W, # and ? are not supported"
        )
    parts = fields.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"cron takes five fields (minute hour day-of-month month day-of-week), not {len(parts)}; "
            "for seconds use `every`"
        )
    try:
        CronSim(fields, datetime(2026, 1, 1, tzinfo=timezone.utc))
    except CronSimError as exc:
        raise ValueError(f"cron: {exc}") from None
    if parts[2] != "*" and parts[4] != "*":
        raise ValueError(
            "cron restricts both day-of-month and day-of-week: Temporal runs only when both match (classic cron: "
            "either), so this is refused; use '*' in one of them, or two schedules"
        )
    if any(re.search(r"[A-Za-z]", p) for p in parts[:3]):
        raise ValueError("cron: names are allowed only in the month and day-of-week fields")
    return text


def check_timezone(name: str) -> str:
    if name not in _zones():
        raise ValueError("timezone must be an IANA time zone name, e.g. 'Europe/Paris', 'America/New_York' or 'UTC'")
    return name


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


class _When(BaseModel):
    """When a schedule runs (shared by create and update)."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(
        default=None, max_length=200,
        description="Five-field cron or @daily etc., in `timezone`: '0 8 * * 1-5' = weekdays 08:00. Or use every.",
    )  # fmt: skip
    every: int | float | str | None = Field(
        default=None, description="An interval: seconds, or '30s', '5m', '1h30m', '1d'. Or use cron."
    )
    timezone: str | None = Field(default=None, max_length=64, description="IANA zone of the cron (default UTC).")
    jitter_s: float | None = Field(
        default=None, ge=0, le=MAX_JITTER_S, description="Random delay of each run, up to this (s)."
    )
    overlap: Overlap | None = Field(default=None, description="A run due while the last still runs (default skip).")
    paused: bool | None = Field(default=None, description="Paused: no run starts.")
    start_at: AwareDatetime | None = Field(default=None, description="No run before (with UTC offset).")
    end_at: AwareDatetime | None = Field(default=None, description="No run after (with UTC offset).")
    note: str | None = Field(default=None, max_length=500, description="A note for people.")
    callback_url: str | None = Field(
        default=None, max_length=2000, description="Each run POSTs its job here when it ends."
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("every")
    @classmethod
    def _every(cls, value: Any) -> Any:
        if value is not None:
            parse_every(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class _What(BaseModel):
    intent: str | None = Field(default=None, min_length=1, max_length=200, description="The intent each run calls.")
    inputs: dict[str, Any] | None = Field(default=None, description="Its inputs.")
    workflow: dict[str, Any] | None = Field(default=None, description="Or: a GPT workflow definition.")
    fleet: dict[str, Any] | None = Field(default=None, description="Or: {category, objective} of a fleet.")


class ScheduleRequest(_What, _When):
    """What to run, and when. POST /schedules: the whole request; PATCH /schedules/{id}: only the fields
    that change (null clears start_at, end_at, note, callback_url)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"schedule_id": "digest-weekdays", "intent": "digest.daily", "inputs": {"since": "24h"},
         "cron": "0 8 * * 1-5", "timezone": "Europe/Paris"},
    ]})  # fmt: skip

    schedule_id: ScheduleId | None = Field(default=None, description="Its id (default: derived from the request).")


class BackfillRequest(BaseModel):
    """POST /schedules/{id}/backfill: run the times a past window would have had, now."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"start_at": "2026-11-23T00:00:00Z", "end_at": "2026-11-27T23:59:59Z"}]})  # fmt: skip

    start_at: AwareDatetime = Field(description="Start of the window (with a UTC offset).")
    end_at: AwareDatetime = Field(description="End of the window (at most 31 days after start_at, not in the future).")
    overlap: Overlap | None = Field(
        default=None, description="Overlap policy for these runs (default: one after another)."
    )


class StoredSchedule(BaseModel):
    """What the orchestrator keeps of a schedule request (in the action's memo): the caller's own words."""

    target: Target
    cron: str | None = None
    every: str | None = None
    timezone: str = "UTC"
    jitter_s: float = 0
    overlap: Overlap = Overlap.SKIP
    start_at: datetime | None = None
    end_at: datetime | None = None
    note: str | None = None


def target_of(what: _What) -> tuple[Target, str, dict[str, Any]]:
    """(target, intent, inputs) of a request; ScheduleProblem when it names none, or more than one."""
    named = [t for t in Target if getattr(what, t.value) is not None]
    if not named:
        raise ScheduleProblem(
            "intent", "say what to run: intent (with inputs), workflow (a GPT workflow definition) or fleet"
        )
    if len(named) > 1:
        raise ScheduleProblem(
            named[1].value, f"give one of intent, workflow and fleet, not {' and '.join(t.value for t in named)}"
        )
    target = named[0]
    if target != Target.INTENT and what.inputs is not None:
        raise ScheduleProblem("inputs", f"inputs go with intent; a {target.value} carries its own")
    if target == Target.INTENT:
        return target, str(what.intent), dict(what.inputs or {})
    return target, TARGET_INTENT[target], dict(getattr(what, target.value))


def check_when(when: _When, *, min_interval_s: float, now: datetime) -> None:
    """The checks across fields and against settings; ScheduleProblem names the field."""
    if when.cron is None and when.every is None:
        raise ScheduleProblem("cron", "say when: cron (e.g. '0 8 * * 1-5') or every (e.g. '1h')")
    if when.cron is not None and when.every is not None:
        raise ScheduleProblem("every", "give one of cron and every, not both")
    if when.every is not None and parse_every(when.every).total_seconds() < min_interval_s:
        raise ScheduleProblem("every", f"every is at least {min_interval_s:g} s here (SCHEDULE_MIN_INTERVAL_S)")
    if when.cron is not None and min_interval_s > 60:
        gap = min_cron_gap(when.cron, when.timezone or "UTC")
        if gap.total_seconds() < min_interval_s:
            raise ScheduleProblem(
                "cron", f"runs {format_every(gap)} apart; at least {min_interval_s:g} s here (SCHEDULE_MIN_INTERVAL_S)"
            )
    if when.start_at and when.end_at and when.end_at <= when.start_at:
        raise ScheduleProblem("end_at", "end_at must be after start_at")
    if when.end_at and when.end_at <= now:
        raise ScheduleProblem("end_at", "end_at is in the past: the schedule would never run")


def min_cron_gap(cron: str, tz: str) -> timedelta:
    """The shortest gap between two runs of a cron expression over its next 500 times (a day's worth of
    minute-level runs covers every pattern of the minute and hour fields)."""
    from zoneinfo import ZoneInfo

    it = CronSim(MACROS.get(cron.lower(), cron), datetime(2026, 1, 5, tzinfo=ZoneInfo(tz)))
    times = [next(it) for _ in range(500)]
    return min(b - a for a, b in zip(times, times[1:], strict=False))


def check_backfill(req: BackfillRequest, now: datetime) -> None:
    if req.end_at <= req.start_at:
        raise ScheduleProblem("end_at", "end_at must be after start_at")
    if req.end_at - req.start_at > MAX_BACKFILL:
        raise ScheduleProblem("end_at", "a backfill covers at most 31 days")
    if req.end_at > now:
        raise ScheduleProblem("end_at", "a backfill covers the past; end_at is in the future")


def run_id_base(schedule_id: str) -> str:
    """The workflow id of the schedule's action; Temporal appends each run's scheduled time:
    `sched-<id>-2026-11-23T08:00:00Z`, so a scheduled time is one job, never two at once."""
    return f"{RUN_PREFIX}{schedule_id}"


def scheduled_time_of(job_id: str, schedule_id: str) -> datetime | None:
    """The nominal time a run's job id names (None: not a run of this schedule)."""
    base = run_id_base(schedule_id) + "-"
    if not job_id.startswith(base):
        return None
    try:
        return datetime.strptime(job_id[len(base) :], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
