"""Schedules: POST/GET /schedules, GET/PATCH/DELETE /schedules/{id}, and pause, unpause, trigger, backfill.

Each schedule is a Temporal Schedule (the Web UI's Schedules page, `temporal schedule list/describe`);
each of its runs is an ordinary job. The work is in gateway/schedules.py; this module is the HTTP contract.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from gateway import schedules as sched
from gateway.auth import Manages, Principal, Reads
from gateway.errors import ApiError, validation_details
from gateway.openapi import ContractRoute
from gateway.schemas import (
    ErrorResponse,
    ScheduleBackfilled,
    ScheduleDeleted,
    ScheduleList,
    ScheduleTriggered,
    ScheduleView,
)
from intents.errors import ErrorType
from intents.schedules import BackfillRequest, Overlap, ScheduleRequest, Target

# Roles: a schedule only ever runs what its creator's key may run, as that key and in its tenant, so
# making, changing and triggering one is `run`; pausing and deleting stop runs (`cancel`); reading is `read`.
router = APIRouter(route_class=ContractRoute, tags=["schedules"])
ScheduleId = Path(description="The schedule's id (as POST /schedules answered).")
WHAT = ("intent", "inputs", "workflow", "fleet")
_BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "UnknownIntent, CallbackUrlRejected, or a request the intent's own checks refuse "
          "(UnknownHost, UnknownAgent, InvalidWorkflowDefinition)."},
}  # fmt: skip
_INVALID = "ValidationError naming the field: bad cron, unknown timezone, every below SCHEDULE_MIN_INTERVAL_S, end_at before start_at, inputs."


def _headers(schedule_id: str, replayed: bool = False) -> dict[str, str]:
    return {"Location": f"/schedules/{schedule_id}"} | ({"Idempotent-Replayed": "true"} if replayed else {})


def _answer(view: ScheduleView, status: int = 200, replayed: bool = False) -> JSONResponse:
    return JSONResponse(
        view.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=_headers(view.schedule_id, replayed),
    )


async def _client(request: Request):
    return await request.app.state.temporal.client()


@router.post(
    "/schedules",
    operation_id="createSchedule",
    summary="Schedule an intent, a GPT workflow or a fleet objective on a cron or an interval (a Temporal Schedule)",
    description="Each run is an ordinary job (getJob). E.g. digest.daily weekdays 08:00: "
    '{"intent":"digest.daily","cron":"0 8 * * 1-5","timezone":"Europe/Paris"}.',
    status_code=201,
    response_model=ScheduleView,
    response_model_exclude_none=True,
    responses={
        200: {
            "model": ScheduleView,
            "description": "The same request again: the schedule already there (Idempotent-Replayed: true).",
        },
        201: {"description": "Created."},
        **_BAD_REQUEST,
        409: {
            "model": ErrorResponse,
            "description": "ScheduleExists: schedule_id names a schedule with another request.",
        },
        422: {"model": ErrorResponse, "description": _INVALID},
    },
)
async def create_schedule(request: Request, who: Manages, body: ScheduleRequest):
    caller = sched.caller_of(who)
    planned = await sched.plan(request, body, caller)
    view, created = await sched.create(await _client(request), planned, caller, request.app.state.settings)
    return _answer(view, 201 if created else 200, replayed=not created)


@router.get(
    "/schedules",
    operation_id="listSchedules",
    summary="List schedules: spec, next 5 run times, recent runs with their job ids and statuses",
    response_model=ScheduleList,
    response_model_exclude_none=True,
)
async def list_schedules(
    request: Request, who: Reads, limit: int = Query(default=50, ge=1, le=100, description="At most this many, by id.")
):
    views = await sched.list_views(await _client(request), sched.caller_of(who), limit)
    return ScheduleList(schedules=views)


@router.get(
    "/schedules/{schedule_id}",
    operation_id="getSchedule",
    summary="Read a schedule: spec, next 5 run times, recent runs with their job ids and statuses",
    response_model=ScheduleView,
    response_model_exclude_none=True,
)
async def get_schedule(request: Request, who: Reads, schedule_id: str = ScheduleId):
    client = await _client(request)
    return await sched.view(client, await sched.describe(client, schedule_id, sched.caller_of(who)))


def _merged(current: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """The schedule's request with the sent fields applied: naming another target or cron/every replaces the old one."""
    merged = dict(current)
    if any(k in sent for k in ("intent", "workflow", "fleet")):
        for key in WHAT:
            merged.pop(key, None)
    for a, b in (("cron", "every"), ("every", "cron")):
        if a in sent:
            merged.pop(b, None)
    return {k: v for k, v in (merged | sent).items() if v is not None}


@router.patch(
    "/schedules/{schedule_id}",
    operation_id="updateSchedule",
    summary="Change a schedule: only the fields sent change (cron or every, timezone, inputs, overlap, paused, ...)",
    response_model=ScheduleView,
    response_model_exclude_none=True,
    responses={**_BAD_REQUEST, 422: {"model": ErrorResponse, "description": _INVALID}},
)
async def update_schedule(request: Request, who: Manages, body: ScheduleRequest, schedule_id: str = ScheduleId):
    if body.schedule_id is not None and body.schedule_id != schedule_id:
        raise ApiError(
            ErrorType.VALIDATION, "schedule_id: a schedule's id cannot change; create another", field="schedule_id"
        )
    client = await _client(request)
    caller = sched.caller_of(who)
    desc = await sched.describe(client, schedule_id, caller)
    stored, run = await sched.stored_of(client, desc)
    current: dict[str, Any] = stored.model_dump(mode="json", exclude={"target"}) | {"callback_url": run.callback_url}
    if stored.target == Target.INTENT:
        current |= {"intent": run.intent, "inputs": run.inputs}
    else:
        current[stored.target.value] = run.inputs
    sent = body.model_dump(mode="json", exclude_unset=True)
    sent.pop("schedule_id", None)
    paused = sent.pop("paused", None)
    try:
        merged = ScheduleRequest.model_validate(_merged(current, sent))
    except ValidationError as exc:
        details = validation_details(exc.errors())
        raise ApiError(
            ErrorType.VALIDATION,
            f"{details[0]['field']}: {details[0]['reason']}",
            field=details[0]["field"],
            details=details,
        ) from None
    creator = await sched.creator_of(desc, caller)
    planned = await sched.plan(request, merged, creator, schedule_id=schedule_id)
    await sched.update(client, schedule_id, planned, creator, request.app.state.settings, paused)
    return await sched.view(client, await sched.describe(client, schedule_id, caller))


@router.delete(
    "/schedules/{schedule_id}",
    operation_id="deleteSchedule",
    summary="Delete a schedule (its runs stay readable as jobs)",
    response_model=ScheduleDeleted,
)
async def delete_schedule(request: Request, who: Manages, schedule_id: str = ScheduleId):
    client = await _client(request)
    await sched.describe(client, schedule_id, sched.caller_of(who))
    await sched.handle_for(client, schedule_id).delete()
    return ScheduleDeleted(schedule_id=schedule_id)


async def _pause(request: Request, who: Principal, schedule_id: str, pause: bool) -> ScheduleView:
    client = await _client(request)
    caller = sched.caller_of(who)
    desc = await sched.describe(client, schedule_id, caller)
    stored, _ = await sched.stored_of(client, desc)
    handle = sched.handle_for(client, schedule_id)
    text = stored.note or ("paused via gpt-orchestrator" if pause else "unpaused via gpt-orchestrator")
    await (handle.pause(note=text) if pause else handle.unpause(note=text))
    return await sched.view(client, await sched.describe(client, schedule_id, caller))


@router.post(
    "/schedules/{schedule_id}/pause",
    operation_id="pauseSchedule",
    summary="Pause a schedule: no run starts until it is unpaused (trigger still runs one)",
    response_model=ScheduleView,
    response_model_exclude_none=True,
)
async def pause_schedule(request: Request, who: Manages, schedule_id: str = ScheduleId):
    return await _pause(request, who, schedule_id, True)


@router.post(
    "/schedules/{schedule_id}/unpause",
    operation_id="unpauseSchedule",
    summary="Unpause a schedule: runs start again at their next due time",
    response_model=ScheduleView,
    response_model_exclude_none=True,
)
async def unpause_schedule(request: Request, who: Manages, schedule_id: str = ScheduleId):
    return await _pause(request, who, schedule_id, False)


@router.post(
    "/schedules/{schedule_id}/trigger",
    operation_id="triggerSchedule",
    summary="Run a schedule now, once (also while paused); the run is an ordinary job",
    status_code=202,
    response_model=ScheduleTriggered,
    response_model_exclude_none=True,
)
async def trigger_schedule(
    request: Request,
    who: Manages,
    schedule_id: str = ScheduleId,
    overlap: Overlap | None = Query(default=None, description="This run's overlap policy (default: the schedule's)."),
):
    client = await _client(request)
    caller = sched.caller_of(who)
    desc = await sched.describe(client, schedule_id, caller)
    before = {r.start_workflow_result.workflow_id for r in desc.raw_description.info.recent_actions}
    await sched.handle_for(client, schedule_id).trigger(overlap=sched.OVERLAP_POLICY[overlap] if overlap else None)
    for _ in range(20):  # the scheduler starts it within a moment: say which job it is
        desc = await sched.describe(client, schedule_id, caller)
        new = [
            r.start_workflow_result.workflow_id
            for r in desc.raw_description.info.recent_actions
            if r.start_workflow_result.workflow_id not in before
        ]
        if new:
            return ScheduleTriggered(schedule_id=schedule_id, job_id=new[-1])
        await asyncio.sleep(0.1)
    return ScheduleTriggered(schedule_id=schedule_id)


@router.post(
    "/schedules/{schedule_id}/backfill",
    operation_id="backfillSchedule",
    summary="Run the times a past window would have had (at most 31 days), except times whose job already succeeded",
    status_code=202,
    response_model=ScheduleBackfilled,
    openapi_extra={"x-operator-only": True},  # an operator's repair, kept out of the ChatGPT Actions schema
    responses={
        422: {
            "model": ErrorResponse,
            "description": "ValidationError naming the field: end_at before start_at, in the future, or a window over 31 days.",
        }
    },
)
async def backfill_schedule(request: Request, who: Manages, body: BackfillRequest, schedule_id: str = ScheduleId):
    client = await _client(request)
    desc = await sched.describe(client, schedule_id, sched.caller_of(who))
    skipped = await sched.backfill(client, desc, body)
    return ScheduleBackfilled(schedule_id=schedule_id, skipped_job_ids=skipped)
