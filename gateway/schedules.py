"""Schedules on Temporal Schedules: one way to build, create, read and change them.

A schedule's action starts an ordinary intent job (IntentWorkflow) under the workflow id
`sched-<schedule id>`; Temporal appends each run's scheduled time (`sched-digest-2026-11-23T08:00:00Z`),
so a scheduled time is one job, and GET /jobs/{id} reads it like any other. Each run carries the search
attributes `Intent`, `Mode` and `Schedule`, a static summary, the creator's identity (requested_by,
tenant) in its input, and the schedule's callback_url.

What the orchestrator keeps (Temporal keeps it all; the gateway holds no state):
- the schedule's memo (set once): who created it (`requested_by`, `tenant`);
- the action's memo (replaced by every update): the request in the caller's own words
  (`StoredSchedule`: cron as written, every, timezone, ...), since Temporal compiles cron into calendars.
Used by the routes (gateway/routes/schedules.py) and by the dev launcher (the opt-in digest schedule).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import Request
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
)
from temporalio.common import Priority, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from config.api_keys import DEFAULT_TENANT
from gateway import calls, lifecycle
from gateway.auth import Principal
from gateway.errors import OUTAGE_STATUSES, ApiError
from gateway.schemas import JobStatus, ScheduleRun, ScheduleView
from intents import canonical, registry
from intents.errors import ErrorType
from intents.schedules import (
    SCHEDULE_ID_PATTERN,
    BackfillRequest,
    Overlap,
    ScheduleProblem,
    ScheduleRequest,
    StoredSchedule,
    Target,
    check_backfill,
    check_when,
    format_every,
    parse_every,
    run_id_base,
    scheduled_time_of,
    target_of,
)
from intents.spec import IntentSpec
from policies.redact import redact_keys
from workflows import search_attributes as sa
from workflows.intent import IntentWorkflow
from workflows.models import IntentRequest

MEMO_OWNER = "gpt_orchestrator"  # schedule memo: {requested_by, tenant}; marks the schedules that are ours
MEMO_REQUEST = "schedule"  # action memo: StoredSchedule
NEXT_RUNS = 5
NOT_FOUND = "no such schedule"
OVERLAP_POLICY = {
    Overlap.SKIP: ScheduleOverlapPolicy.SKIP,
    Overlap.BUFFER_ONE: ScheduleOverlapPolicy.BUFFER_ONE,
    Overlap.ALLOW_ALL: ScheduleOverlapPolicy.ALLOW_ALL,
    Overlap.CANCEL_OTHER: ScheduleOverlapPolicy.CANCEL_OTHER,
}
_ID = re.compile(SCHEDULE_ID_PATTERN)


@dataclass(frozen=True)
class Caller:
    """Who asks: recorded on the schedule (its creator) and carried by every run."""

    requested_by: str
    tenant: str = DEFAULT_TENANT
    every_tenant: bool = False  # admins read and manage every tenant's schedules

    def sees(self, tenant: str) -> bool:
        return self.every_tenant or tenant == self.tenant


def caller_of(who: Principal) -> Caller:
    """The request's key: its name and tenant (gateway/auth.py)."""
    return Caller(requested_by=who.name, tenant=who.tenant, every_tenant=who.every_tenant)


async def creator_of(desc: ScheduleDescription, fallback: Caller) -> Caller:
    """The key that created the schedule: its runs keep that identity whoever changes the schedule."""
    owner = (await desc.memo()).get(MEMO_OWNER) or {}
    return Caller(
        requested_by=owner.get("requested_by") or fallback.requested_by, tenant=owner.get("tenant") or fallback.tenant
    )


@dataclass(frozen=True)
class Planned:
    """A validated schedule request: what each run is, and when runs happen."""

    schedule_id: str
    spec: IntentSpec
    inputs: dict[str, Any]
    summary: str
    stored: StoredSchedule
    paused: bool
    callback_url: str | None

    @property
    def fingerprint(self) -> str:
        """What makes two create requests the same schedule (paused is state, not identity)."""
        return canonical.sha256(canonical.canonical_json(
            [self.spec.name, self.inputs, self.callback_url, self.stored.model_dump(mode="json")]
        ))  # fmt: skip


def problem(exc: ScheduleProblem) -> ApiError:
    return ApiError(
        ErrorType.VALIDATION, f"{exc.field}: {exc}", field=exc.field, details=[{"field": exc.field, "reason": str(exc)}]
    )


async def plan(request: Request, body: ScheduleRequest, caller: Caller, *, schedule_id: str | None = None) -> Planned:
    """Validate a request as /orchestrate would its intent, plus the when; 4xx naming the field."""
    settings: Settings = request.app.state.settings
    try:
        target, intent, _ = target_of(body)
    except ScheduleProblem as exc:
        raise problem(exc) from None
    spec = await calls.resolve_intent(request.app.state, intent)
    calls.check_callback(request.app.state, body.callback_url)
    return plan_for(settings, body, spec, caller, schedule_id=schedule_id)


def plan_for(
    settings: Settings, body: ScheduleRequest, spec: IntentSpec, caller: Caller, *, schedule_id: str | None = None
) -> Planned:
    try:
        target, _, raw_inputs = target_of(body)
        check_when(body, min_interval_s=settings.schedule_min_interval_s, now=datetime.now(timezone.utc))
    except ScheduleProblem as exc:
        raise problem(exc) from None
    prefix = {Target.INTENT: "inputs", Target.WORKFLOW: "workflow", Target.FLEET: "fleet"}[target]
    validated = calls.validate(spec, raw_inputs, settings, prefix=f"{prefix}.")
    inputs = validated.model_dump(mode="json")
    stored = StoredSchedule(
        target=target,
        cron=body.cron,
        every=format_every(parse_every(body.every)) if body.every is not None else None,
        timezone=body.timezone or "UTC",
        jitter_s=body.jitter_s or 0,
        overlap=body.overlap or Overlap.SKIP,
        start_at=body.start_at,
        end_at=body.end_at,
        note=body.note,
    )
    if schedule_id is None:
        schedule_id = body.schedule_id or derived_id(spec.name, inputs, body.callback_url, stored, caller.tenant)
    summary = spec.summary_for(validated)
    return Planned(schedule_id, spec, inputs, summary, stored, bool(body.paused), body.callback_url)


def derived_id(
    intent: str, inputs: dict[str, Any], callback_url: str | None, stored: StoredSchedule, tenant: str
) -> str:
    """Without a schedule_id, the same request names the same schedule (a repeat is not a second one);
    the same request from two tenants is two schedules."""
    material = [intent, inputs, callback_url, stored.model_dump(mode="json")] + (
        [] if tenant == DEFAULT_TENANT else [tenant]
    )
    digest = canonical.sha256(canonical.canonical_json(material))
    slug = re.sub(r"[^A-Za-z0-9_-]", "-", intent)[:40]
    return f"{slug}-{digest[:12]}"


def _spec(stored: StoredSchedule) -> ScheduleSpec:
    return ScheduleSpec(
        cron_expressions=[stored.cron] if stored.cron else [],
        intervals=[ScheduleIntervalSpec(every=parse_every(stored.every))] if stored.every else [],
        time_zone_name=stored.timezone,
        jitter=timedelta(seconds=stored.jitter_s) if stored.jitter_s else None,
        start_at=stored.start_at,
        end_at=stored.end_at,
    )


def build(p: Planned, who: Caller, settings: Settings, *, paused: bool | None = None) -> Schedule:
    """The Temporal Schedule: its action starts the intent job every run is."""
    mode = str(p.spec.mode)
    run = IntentRequest(
        intent=p.spec.name, inputs=p.inputs, mode=p.spec.mode, callback_url=p.callback_url,
        requested_by=who.requested_by, tenant=who.tenant,
    )  # fmt: skip
    action = ScheduleActionStartWorkflow(
        IntentWorkflow.run,
        run,
        id=run_id_base(p.schedule_id),
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=settings.max_run_s),  # backstop: every run ends
        memo={
            "fingerprint": canonical.fingerprint(p.spec.name, p.inputs),
            MEMO_REQUEST: p.stored.model_dump(mode="json"),
        },
        typed_search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.INTENT, p.spec.name),
                SearchAttributePair(sa.MODE, mode),
                SearchAttributePair(sa.SCHEDULE, p.schedule_id),
                # Every run is read, listed and approved as the creator's job, in the creator's tenant.
                SearchAttributePair(sa.REQUESTED_BY, who.requested_by),
                SearchAttributePair(sa.TENANT, who.tenant),
            ]
        ),  # fmt: skip
        priority=Priority(fairness_key=who.tenant),  # tenants share the task queue fairly (gateway/tenancy.py)
        static_summary=f"{p.summary} (schedule {p.schedule_id})"[:250],
        static_details=lifecycle.details_markdown(p.spec.name, mode, p.inputs) + f"\n\nscheduled by `{p.schedule_id}`",
    )
    state_paused = p.paused if paused is None else paused
    return Schedule(
        action=action,
        spec=_spec(p.stored),
        policy=SchedulePolicy(overlap=OVERLAP_POLICY[p.stored.overlap]),
        state=ScheduleState(paused=state_paused, note=p.stored.note or ("paused" if state_paused else None)),
    )


def _invalid_spec(exc: RPCError, p: Planned) -> ApiError:
    """Temporal refused the spec (our own checks let it through): a 422 naming the field it is about."""
    text = exc.message or "invalid schedule spec"
    field = "timezone" if "time zone" in text else ("cron" if p.stored.cron else "every")
    return ApiError(
        ErrorType.VALIDATION,
        f"{field}: Temporal refused it: {text}",
        field=field,
        details=[{"field": field, "reason": text}],
    )


async def create(client: Client, p: Planned, who: Caller, settings: Settings) -> tuple[ScheduleView, bool]:
    """Create the schedule, or answer the one already there if it is the same request. (view, created)"""
    try:
        await client.create_schedule(
            p.schedule_id,
            build(p, who, settings),
            memo={MEMO_OWNER: {"requested_by": who.requested_by, "tenant": who.tenant}},
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.INTENT, p.spec.name)]),
        )
    except ScheduleAlreadyRunningError:
        try:
            desc = await describe(client, p.schedule_id, who)
        except ApiError:  # a schedule under that id that is not ours (made with the CLI, another tenant's)
            desc = None
        if desc is None or await _stored_fingerprint(client, desc) != p.fingerprint:
            raise ApiError(
                ErrorType.SCHEDULE_EXISTS,
                "this schedule_id is taken (by a schedule with another request); PATCH yours, or choose another id",
                field="schedule_id",
            ) from None
        return await view(client, desc), False
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise _invalid_spec(exc, p) from None
        raise
    return await view(client, await describe(client, p.schedule_id, who)), True


def handle_for(client: Client, schedule_id: str) -> ScheduleHandle:
    if not _ID.match(schedule_id):
        raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="schedule_id")
    return client.get_schedule_handle(schedule_id)


async def describe(client: Client, schedule_id: str, who: Caller) -> ScheduleDescription:
    """The schedule, if it is ours and the caller's tenant's; else 404 (the same answer as none)."""
    try:
        desc = await handle_for(client, schedule_id).describe()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="schedule_id") from None
        raise
    owner = (await desc.memo()).get(MEMO_OWNER)
    if not isinstance(owner, dict) or not who.sees(owner.get("tenant", DEFAULT_TENANT)):
        raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="schedule_id")
    return desc


async def _decode(client: Client, payload: Any, type_: type) -> Any:
    (value,) = await client.data_converter.decode([payload], [type_])
    return value


async def stored_of(client: Client, desc: ScheduleDescription) -> tuple[StoredSchedule, IntentRequest]:
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    stored = await _decode(client, (action.memo or {})[MEMO_REQUEST], StoredSchedule)
    run = await _decode(client, action.args[0], IntentRequest)
    return stored, run


async def _stored_fingerprint(client: Client, desc: ScheduleDescription) -> str:
    stored, run = await stored_of(client, desc)
    return canonical.sha256(
        canonical.canonical_json([run.intent, run.inputs, run.callback_url, stored.model_dump(mode="json")])
    )


async def _run_status(client: Client, job_id: str, reported: int) -> JobStatus:
    """The scheduler's own status of a run; a run it reports as still going (it does not follow every
    overlap policy's runs to the end) is asked directly."""
    status = WorkflowExecutionStatus(reported) if reported else None
    if status is not None and status != WorkflowExecutionStatus.RUNNING:
        return lifecycle.JOB_STATUS.get(status, JobStatus.RUNNING)
    try:
        desc = await client.get_workflow_handle(job_id).describe()
    except RPCError as exc:
        if exc.status in OUTAGE_STATUSES:
            raise
        return JobStatus.RUNNING
    return lifecycle.JOB_STATUS.get(desc.status, JobStatus.RUNNING) if desc.status else JobStatus.RUNNING


async def view(client: Client, desc: ScheduleDescription) -> ScheduleView:
    stored, run = await stored_of(client, desc)
    owner = (await desc.memo()).get(MEMO_OWNER) or {}
    info = desc.info
    recent = list(reversed(desc.raw_description.info.recent_actions))  # newest first
    statuses = await asyncio.gather(*(
        _run_status(client, r.start_workflow_result.workflow_id, int(r.start_workflow_status)) for r in recent
    ))  # fmt: skip
    runs = [
        ScheduleRun(
            job_id=r.start_workflow_result.workflow_id,
            scheduled_at=r.schedule_time.ToDatetime().replace(tzinfo=timezone.utc),
            started_at=r.actual_time.ToDatetime().replace(tzinfo=timezone.utc),
            status=status,
        )
        for r, status in zip(recent, statuses, strict=True)
    ]
    return ScheduleView(
        schedule_id=desc.id,
        target=stored.target,
        intent=run.intent,
        mode=str(run.mode),
        inputs=redact_keys(run.inputs),
        cron=stored.cron,
        every=stored.every,
        timezone=stored.timezone,
        jitter_s=stored.jitter_s,
        overlap=stored.overlap,
        start_at=stored.start_at,
        end_at=stored.end_at,
        note=stored.note,
        paused=desc.schedule.state.paused,
        callback_url=run.callback_url,
        requested_by=owner.get("requested_by"),
        tenant=owner.get("tenant"),
        job_id_prefix=run_id_base(desc.id) + "-",
        created_at=info.created_at,
        updated_at=info.last_updated_at,
        next_run_times=list(info.next_action_times[:NEXT_RUNS]),
        recent_runs=runs,
        runs=info.num_actions,
        skipped_overlap=info.num_actions_skipped_overlap,
        missed_catchup_window=info.num_actions_missed_catchup_window,
    )


async def list_views(client: Client, who: Caller, limit: int) -> list[ScheduleView]:
    """Our schedules of the caller's tenant, by id (read through Temporal's schedule list, then described)."""
    ids: list[str] = []
    async for entry in await client.list_schedules():
        owner = (await entry.memo()).get(MEMO_OWNER)
        if isinstance(owner, dict) and who.sees(owner.get("tenant", DEFAULT_TENANT)):
            ids.append(entry.id)
    ids = sorted(ids)[:limit]

    async def one(schedule_id: str) -> ScheduleView | None:
        try:
            return await view(client, await describe(client, schedule_id, who))
        except ApiError:  # deleted between the list and the describe
            return None

    return [v for v in await asyncio.gather(*(one(i) for i in ids)) if v is not None]


async def update(
    client: Client, schedule_id: str, p: Planned, who: Caller, settings: Settings, paused: bool | None
) -> None:
    def updater(current: ScheduleUpdateInput) -> ScheduleUpdate:
        keep = current.description.schedule.state.paused if paused is None else paused
        return ScheduleUpdate(schedule=build(p, who, settings, paused=keep))

    try:
        await handle_for(client, schedule_id).update(updater)
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise _invalid_spec(exc, p) from None
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(ErrorType.NOT_FOUND, NOT_FOUND, field="schedule_id") from None
        raise


async def backfill(client: Client, desc: ScheduleDescription, req: BackfillRequest) -> list[str]:
    """Run the times of a past window now, except those whose job already succeeded: a scheduled time
    is one job, and a success is never run again (a failed or cancelled one is: that is a retry).
    Returns the job ids left out. The window is inclusive at both ends."""
    try:
        check_backfill(req, datetime.now(timezone.utc))
    except ScheduleProblem as exc:
        raise problem(exc) from None
    done = sorted({
        t for w in [w async for w in client.list_workflows(
            f"{sa.SCHEDULE.name} = '{desc.id}' AND ExecutionStatus = 'Completed'", limit=5000)]
        if (t := scheduled_time_of(w.id, desc.id)) is not None and req.start_at <= t <= req.end_at
    })  # fmt: skip
    half = timedelta(milliseconds=500)  # nominal times are whole seconds: cut half a second around each
    edges = [req.start_at - half, *[x for t in done for x in (t - half, t + half)], req.end_at]
    # Default: one after another (a window's runs are all due at once; skip would drop all but one).
    overlap = OVERLAP_POLICY[req.overlap] if req.overlap else ScheduleOverlapPolicy.BUFFER_ALL
    windows = [
        ScheduleBackfill(start_at=a, end_at=b, overlap=overlap)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b > a
    ]
    if windows:
        await client.get_schedule_handle(desc.id).backfill(*windows)
    return [f"{run_id_base(desc.id)}-{t.strftime('%Y-%m-%dT%H:%M:%SZ')}" for t in done]


DIGEST_SCHEDULE_ID = "digest-daily"
DEV_LAUNCHER = Caller(requested_by="make dev (DIGEST_SCHEDULE_CRON)")


async def ensure_digest_schedule(client: Client, settings: Settings) -> ScheduleView | None:
    """The opt-in digest schedule: with DIGEST_SCHEDULE_CRON set, `make dev` makes `digest-daily` run
    digest.daily on it (created, or updated to match); unset, nothing is made. Returns its view."""
    if not settings.digest_schedule_cron:
        return None
    body = ScheduleRequest(
        schedule_id=DIGEST_SCHEDULE_ID, intent="digest.daily", inputs={}, cron=settings.digest_schedule_cron,
        timezone=settings.digest_schedule_timezone, note="daily digest (DIGEST_SCHEDULE_CRON)",
    )  # fmt: skip
    planned = plan_for(settings, body, registry.get("digest.daily"), DEV_LAUNCHER)
    try:
        view_, _ = await create(client, planned, DEV_LAUNCHER, settings)
    except ApiError as exc:
        if exc.error_type != ErrorType.SCHEDULE_EXISTS:
            raise
        await update(client, DIGEST_SCHEDULE_ID, planned, DEV_LAUNCHER, settings, paused=None)
        view_ = await view(client, await describe(client, DIGEST_SCHEDULE_ID, DEV_LAUNCHER))
    return view_
