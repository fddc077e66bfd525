"""Live progress as Server-Sent Events: GET /jobs/{id}/events, /api/gpt-workflows/{id}/events and
/api/gpt-fleets/runs/{id}/events (gateway/streams.py says where the events come from and what they cost)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway import lifecycle
from gateway.auth import Principal, Reads
from gateway.errors import ApiError
from gateway.openapi import ContractRoute
from gateway.schemas import JobKindName
from gateway.streams import SEND_TIMEOUT_S, Cursor, WatchedJob, Watches, snapshot, stream
from intents.errors import ErrorType
from workflows import search_attributes as sa

router = APIRouter(route_class=ContractRoute, tags=["events"])
log = logging.getLogger("gpt_orchestrator.gateway.streams")

# The intents that run a whole workflow as their job's `.run` child: the child's log is the job's progress.
CHILD_KIND = {"gpt.workflow": JobKindName.GPT_WORKFLOW, "fleet.orchestrate": JobKindName.FLEET}
KIND_BY_TYPE = {"GptWorkflow": JobKindName.GPT_WORKFLOW, "FleetWorkflow": JobKindName.FLEET}
READY_WAIT_S = 5.0


class EventStream(StreamingResponse):
    """text/event-stream; a client that stops reading for SEND_TIMEOUT_S is let go (its connection closed).
    `on_close` runs once the response is over, whether it streamed, failed, or never started."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[bytes],
        status_code: int = 200,  # FastAPI reads the default off the signature for the OpenAPI document
        *,
        on_close: Callable[[], None] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(content, status_code=status_code, headers=headers)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._on_close is not None:
                self._on_close()

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except TimeoutError:
                log.info("an event stream's client stopped reading for %s s; closing it", SEND_TIMEOUT_S)
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


STREAM_DESCRIPTION = """Server-Sent Events, each with an `id:` that increases within the job:
`snapshot` (always first: the job document and its workflow's status; its id is the position the stream
continues from), `step` (started, succeeded, failed, skipped, cancelled, not_run; an output excerpt),
`approval` (pending, decided), `output` (partial text of a running chat step, ids `<seq>.<n>`), `usage`
(an LLM call's tokens and cost, and the running total), and `done` (the final job document, as GET
/jobs/{id}); then the stream closes. A `: keep-alive` comment comes every 15 s. Reconnect with
`Last-Event-ID` to get exactly the events after it, from any gateway."""

STREAM_RESPONSES: dict[int | str, dict] = {
    200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    204: {"description": "`Last-Event-ID` is the job's `done` event: there is nothing more (EventSource stops)."},
}
JobId = Path(description="The job_id of the job to watch.")
WorkflowId = Path(description="The workflow_id of the GPT workflow or fleet run to watch.")
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", description="Resume after this event id (sent by EventSource on reconnect)."),
]
AfterQuery = Query(
    default=None,
    alias="last_event_id",
    max_length=40,
    description="Same as the Last-Event-ID header, for clients that cannot set it.",
)


async def watched_job(request: Request, who: Principal, job_id: str) -> WatchedJob:
    """Which workflow's log a job's progress is: its own, or its `.run` child's (gpt.workflow, fleet.orchestrate).
    Another tenant's job is the 404 of no job."""
    client = await request.app.state.temporal.client()
    _, desc = await lifecycle.describe(client, job_id, who)
    closed = desc.close_time is not None
    if desc.workflow_type in KIND_BY_TYPE:
        return WatchedJob(job_id, job_id, KIND_BY_TYPE[desc.workflow_type], closed)
    if desc.workflow_type != "IntentWorkflow":
        raise ApiError(ErrorType.NOT_FOUND, lifecycle.NOT_FOUND, field="job_id")  # a ledger or callback run is no job
    intent = desc.typed_search_attributes.get(sa.INTENT)
    if intent in CHILD_KIND:
        return WatchedJob(job_id, f"{job_id}.run", CHILD_KIND[intent], closed)
    return WatchedJob(job_id, job_id, JobKindName.INTENT, closed)


def _cursor(header: str | None, query: str | None) -> Cursor | None:
    text = header if header is not None else query
    if text is None or not text.strip():
        return None
    try:
        return Cursor.parse(text)
    except ValueError as exc:
        field = "Last-Event-ID" if header is not None else "last_event_id"
        raise ApiError(ErrorType.VALIDATION, f"{field}: {exc}", field=field) from None


async def events_response(request: Request, job: WatchedJob, header: str | None, query: str | None) -> Response:
    resume = _cursor(header, query)
    watches: Watches = request.app.state.watches
    place = watches.reserve()  # counted from now on: a stream still reading its snapshot is a stream
    try:
        # The snapshot is read before the answer starts, so an outage is a JSON 503, not a broken stream.
        watch = await watches.subscribe(job)
        try:
            if resume is not None and resume.seq > 0 and job.closed:
                # Over already: once its log is read, an id past its last event means the client has `done`.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.finished.wait(), READY_WAIT_S)
                if watch.closed and resume.seq > watch.final_seq:
                    place.release()
                    return Response(status_code=204)
            snap = await snapshot(watch)
        finally:
            watches.unsubscribe(watch)  # it lingers: the stream below picks the same watch up
    except BaseException:
        place.release()
        raise
    max_s = request.app.state.settings.stream_max_s

    async def body() -> AsyncIterator[bytes]:
        watched = await watches.subscribe(job)
        try:
            async for chunk in stream(watched, snap, resume, max_s=max_s):
                yield chunk
        finally:
            watches.unsubscribe(watched)

    return EventStream(body(), on_close=place.release, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get(
    "/jobs/{job_id}/events",
    operation_id="streamJobEvents",
    summary="Watch a job live (Server-Sent Events): its steps, approvals, chat text as written, usage, then the final document",
    response_class=EventStream,
    responses=STREAM_RESPONSES,
    openapi_extra={"x-operator-only": True},  # a stream, which ChatGPT Actions cannot read: not in its schema
)
async def job_events(
    request: Request, who: Reads, job_id: str = JobId, last_event_id: LastEventId = None, after: str | None = AfterQuery
):
    return await events_response(request, await watched_job(request, who, job_id), last_event_id, after)


@router.get(
    "/api/gpt-workflows/{workflow_id}/events",
    operation_id="streamGptWorkflowEvents",
    summary="Watch a GPT workflow live (the same stream as GET /jobs/{id}/events)",
    response_class=EventStream,
    responses=STREAM_RESPONSES,
    openapi_extra={"x-operator-only": True},
)
async def gpt_workflow_events(
    request: Request,
    who: Reads,
    workflow_id: str = WorkflowId,
    last_event_id: LastEventId = None,
    after: str | None = AfterQuery,
):
    job = await watched_run(request, who, workflow_id, JobKindName.GPT_WORKFLOW, "no such GPT workflow")
    return await events_response(request, job, last_event_id, after)


@router.get(
    "/api/gpt-fleets/runs/{workflow_id}/events",
    operation_id="streamFleetEvents",
    summary="Watch a fleet run live: each agent as a step (the same stream as GET /jobs/{id}/events)",
    response_class=EventStream,
    responses=STREAM_RESPONSES,
    openapi_extra={"x-operator-only": True},
)
async def fleet_events(
    request: Request,
    who: Reads,
    workflow_id: str = WorkflowId,
    last_event_id: LastEventId = None,
    after: str | None = AfterQuery,
):
    job = await watched_run(request, who, workflow_id, JobKindName.FLEET, "no such fleet run")
    return await events_response(request, job, last_event_id, after)


async def watched_run(
    request: Request, who: Principal, workflow_id: str, kind: JobKindName, missing: str
) -> WatchedJob:
    """The job behind a GPT workflow or fleet run ID, only when it is one of that kind."""
    job = await watched_job(request, who, workflow_id)
    if job.kind != kind or job.source_id != workflow_id:
        raise ApiError(ErrorType.NOT_FOUND, missing, field="workflow_id")
    return job
