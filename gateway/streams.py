"""Live progress streams (Server-Sent Events) of a job, read from Temporal: GET /jobs/{id}/events and friends.

Where the events come from: each job's workflow keeps a progress log (workflows/progress.py) and answers
the `progress` query with the events after a sequence number. Nothing lives in this process that another
gateway would lack: the event ids *are* the log's sequence numbers, so any gateway, before or after a
restart, serves the same event under the same id, and `Last-Event-ID` resumes exactly.

What it costs Temporal: one `JobWatch` per job per gateway process, shared by every stream of that job
(N watchers cost what one does). A watch long-polls the job's history (GetWorkflowExecutionHistory with
wait_new_event, which costs nothing while nothing happens) and queries the log when a workflow task has
completed (the only time the log can change); while a chat step runs it also reads the chat's heartbeat
details (`describe`) every OUTPUT_POLL_S for its partial text. Each new connection adds one snapshot
(a query and the job document). Streams per process are capped (STREAM_MAX_CONCURRENT).

Ids: a durable event's id is its seq (`7`); the `output` events of running chats between two durable
events are `7.0000065`, `7.0000120`… (the minor part is the number of characters of partial text
delivered under `7`, seven digits wide so the ids also increase read as decimal numbers), and a resume
with `7.0000120` continues the text after its 120th character.
`done` is `last seq + 1`; a reconnect after it gets 204 (EventSource stops reconnecting).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import itertools
import json
import logging
import re
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.api.enums.v1 import HistoryEventFilterType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.answers import cap_result
from gateway.errors import ApiError
from gateway.job_view import job_view
from gateway.lifecycle import first_answer
from gateway.schemas import JobKindName
from intents.agents import CHAT_ACTIVITY, PartialOutput
from intents.errors import ErrorType
from workflows.progress import EventType, ProgressEvent, ProgressPage, ProgressQuery, StepPhase

log = logging.getLogger("gpt_orchestrator.gateway.streams")

KEEPALIVE_S = 15.0  # a comment line this often keeps proxies and clients from timing the stream out
# uvicorn's graceful shutdown waits this long for open responses, then cancels them: an event stream never
# ends by itself, so a gateway being stopped ends its streams (their clients resume on another gateway).
SHUTDOWN_GRACE_S = 3
SEND_TIMEOUT_S = 30.0  # a client that reads nothing for this long is disconnected (its events would pile up)
OUTPUT_POLL_S = 0.3  # how often a running chat's heartbeat details are read
LINGER_S = 10.0  # a watch outlives its last stream this long, so a reconnect finds it warm
RETRY_MS = 1000  # `retry:` sent with the snapshot: how soon EventSource reconnects
MAX_READS = 3  # log reads out at once for one watch (the held one and the ones after it)
REFRESH_RETRY_S = (0.05, 0.1, 0.2, 0.5, 1.0)  # a failed query (no worker yet, a dropped query) is asked again
QUERY_TIMEOUT = timedelta(seconds=2)  # a query the worker dropped (it can, as a run is evicted) fails fast
GIVE_UP_AFTER_CLOSE = 15  # failed reads of a closed job's log before its stream ends with what it has
MAX_BUFFERED = 2000  # durable events a watch keeps for late joiners; older ones are read again by query
MINOR_DIGITS = 7  # an output id's minor part, zero-padded: `7.0000065` < `7.0000120` as text and as numbers
CURSOR_PATTERN = re.compile(r"^(\d{1,12})(?:\.(\d{1,12}))?$")
CHAT_ACTIONS = ("message", "query")
ENDED = (StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.SKIPPED, StepPhase.CANCELLED, StepPhase.NOT_RUN)
CLOSE_EVENTS = frozenset({
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
})  # fmt: skip
# History events after which the log may have changed: a completed workflow task, or the run's end.
WAKES = CLOSE_EVENTS | {HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a job's stream: after durable event `seq`, and `minor` characters of partial text."""

    seq: int
    minor: int = 0

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = CURSOR_PATTERN.match(text.strip())
        if not match:
            raise ValueError("not an event id of this stream (digits, optionally `.digits`)")
        return cls(int(match[1]), int(match[2] or 0))

    def __str__(self) -> str:
        return f"{self.seq}.{self.minor:0{MINOR_DIGITS}d}" if self.minor else str(self.seq)


@dataclass(frozen=True)
class WatchedJob:
    job_id: str  # what the client asked about; `done` carries its job document
    source_id: str  # the workflow whose progress log is read (the job, or its `.run` child)
    kind: JobKindName
    closed: bool = field(default=False, compare=False)  # already over when the stream was asked for


@dataclass
class Partial:
    """A running chat's text as the watch last read it from its heartbeat details."""

    key: str
    agent: str
    attempt: int
    chars: int
    tail: str


@dataclass
class Snapshot:
    seq: int
    data: dict[str, Any]


def sse(event: str, data: Any, *, id: str | None = None, retry: int | None = None) -> bytes:
    """One Server-Sent Event; data is JSON on one line (no raw newlines, so nothing can break framing)."""
    lines = [f"event: {event}"]
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str))
    return ("\n".join(lines) + "\n\n").encode()


KEEPALIVE = b": keep-alive\n\n"


class JobWatch:
    """Follows one job's progress log for every stream of it in this process."""

    def __init__(self, client: Client, job: WatchedJob, max_result_chars: int):
        self.client, self.job, self.max_result_chars = client, job, max_result_chars
        self.events: list[ProgressEvent] = []
        self.last_seq = 0
        self.partials: dict[str, Partial] = {}
        self.running_chats: set[str] = set()
        self.closed = False  # the job has ended and every event of it has been read
        self.final_seq = 0
        self.done_doc: dict[str, Any] | None = None
        self.subscribers = 0
        self.finished = asyncio.Event()  # closed: every event read and the final document built
        self._version = 0
        self._changed = asyncio.Event()
        self._dirty = asyncio.Event()
        self._source_closed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._linger: asyncio.Task | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._follow_history(), name=f"watch-history-{self.job.source_id}"),
            asyncio.create_task(self._refresher(), name=f"watch-log-{self.job.source_id}"),
            asyncio.create_task(self._output_poller(), name=f"watch-output-{self.job.source_id}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task

    @property
    def version(self) -> int:
        return self._version

    def _notify(self) -> None:
        self._version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_change(self, version: int, timeout: float) -> None:
        if self._version != version:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    # --- reading the log -------------------------------------------------------------------

    async def query(self, after: int, *, with_state: bool = False) -> ProgressPage:
        handle = self.client.get_workflow_handle(self.job.source_id)
        query = ProgressQuery(after=after, with_state=with_state)
        return await handle.query("progress", query, result_type=ProgressPage, rpc_timeout=QUERY_TIMEOUT)

    def take(self, page: ProgressPage) -> None:
        """Add a page's new events (any page, from any query: events are immutable once logged)."""
        fresh = [e for e in page.events if e.seq > self.last_seq]
        if fresh and fresh[0].seq != self.last_seq + 1 and self.events:
            # A gap: this process missed events (the log dropped them). Keep what is contiguous.
            log.warning("progress log of %s skipped from %s to %s", self.job.source_id, self.last_seq, fresh[0].seq)
        for event in fresh:
            self.events.append(event)
            self.last_seq = event.seq
            self._track(event)
        if len(self.events) > MAX_BUFFERED:
            del self.events[: len(self.events) - MAX_BUFFERED]
        if fresh:
            self._notify()

    def _track(self, event: ProgressEvent) -> None:
        """Which chats are running, so partial text is read only while one is."""
        if event.type != EventType.STEP:
            return
        key = str(event.data.get("step_id") or "")
        state = event.data.get("state")
        is_chat = self.job.kind == JobKindName.FLEET or event.data.get("action") in CHAT_ACTIONS
        if state == StepPhase.STARTED and is_chat:
            self.running_chats.add(key)
        elif state in ENDED:
            self.running_chats.discard(key)
            self.partials.pop(key, None)

    async def refresh(self) -> None:
        """Read the log up to its end."""
        while True:
            page = await self.query(self.last_seq)
            self.take(page)
            if not page.events or self.last_seq >= page.last_seq:
                return

    def events_after(self, seq: int) -> list[ProgressEvent]:
        if not self.events or seq >= self.last_seq:
            return []
        return self.events[bisect.bisect_right(self.events, seq, key=lambda e: e.seq) :]

    @property
    def first_buffered(self) -> int:
        return self.events[0].seq if self.events else self.last_seq + 1

    async def _refresher(self) -> None:
        """Re-read the log whenever the history says it may have changed; retry while no worker answers."""
        failures, failures_after_close = 0, 0
        while True:
            if failures:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._dirty.wait(), REFRESH_RETRY_S[min(failures, len(REFRESH_RETRY_S)) - 1])
            else:
                await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._refresh_hedged()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - no worker, Temporal down: try again shortly
                failures += 1
                failures_after_close += self._source_closed.is_set()
                log.debug("progress query of %s failed: %s", self.job.source_id, exc)
            if self._source_closed.is_set() and (not failures or failures_after_close >= GIVE_UP_AFTER_CLOSE):
                # Closed and read (or unreadable: no worker replays it): the stream ends with the job document.
                await self._finish()
                return

    async def _refresh_hedged(self) -> None:
        """refresh(), asked again alongside whenever the history shows another workflow task completed
        while a read is still out: Temporal may hold a query (see lifecycle.first_answer), and the events
        recorded after it must not wait for that one read. Done when the newest read has answered; a read
        older than one that answered is superseded (events are immutable and take() keeps each once). When
        the newest read fails, its failure is raised (the refresher retries) even if an older one answers
        later: that answer predates what the failed read was sent for."""
        ranks = itertools.count()
        reads = [(next(ranks), asyncio.create_task(self.refresh()))]  # oldest first
        failure: tuple[int, BaseException] | None = None  # the newest failed read, unless a newer one answered
        dirty = asyncio.create_task(self._dirty.wait())
        try:
            while reads:
                out = [read for _, read in reads]
                await asyncio.wait([*out, dirty] if len(reads) < MAX_READS else out, return_when=FIRST_COMPLETED)
                for rank, read in [r for r in reads if r[1].done()]:  # oldest first
                    reads.remove((rank, read))
                    error = RuntimeError("progress read cancelled") if read.cancelled() else read.exception()
                    if error is None:
                        for older in [r for r in reads if r[0] < rank]:
                            older[1].cancel()
                            reads.remove(older)
                        if failure is not None and failure[0] < rank:
                            failure = None
                    elif failure is None or failure[0] < rank:
                        failure = (rank, error)  # an older read answering later does not cover it
                if reads and dirty.done() and len(reads) < MAX_READS:
                    self._dirty.clear()
                    reads.append((next(ranks), asyncio.create_task(self.refresh())))
                    dirty = asyncio.create_task(self._dirty.wait())
            if failure is not None:
                raise failure[1]
        finally:
            dirty.cancel()
            for _, read in reads:
                read.cancel()

    async def _follow_history(self) -> None:
        """Long-poll the source's history; every completed workflow task marks the log dirty."""
        token = b""
        backoff = 0.25
        self._dirty.set()
        while True:
            request = GetWorkflowExecutionHistoryRequest(
                namespace=self.client.namespace,
                execution=WorkflowExecution(workflow_id=self.job.source_id),
                next_page_token=token,
                wait_new_event=True,
                history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
                skip_archival=True,
            )
            try:
                resp = await self.client.workflow_service.get_workflow_execution_history(request, retry=True)
            except asyncio.CancelledError:
                raise
            except RPCError as exc:
                # The job's `.run` child has not started yet (or never will, if the job ends first); or
                # the job itself is gone (past the namespace retention): either way, nothing more comes.
                if exc.status == RPCStatusCode.NOT_FOUND and (
                    self.job.source_id == self.job.job_id or await self._job_closed()
                ):
                    self._source_closed.set()
                    self._dirty.set()
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception:  # noqa: BLE001 - Temporal unreachable: keep the stream open and retry
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.25
            types = {e.event_type for e in resp.history.events}
            if types & WAKES:
                self._dirty.set()
            token = resp.next_page_token
            if types & CLOSE_EVENTS or not token:
                self._source_closed.set()
                self._dirty.set()
                return

    async def _job_closed(self) -> bool:
        with contextlib.suppress(Exception):
            desc = await self.client.get_workflow_handle(self.job.job_id).describe()
            return desc.close_time is not None
        return False

    async def _finish(self) -> None:
        """The source has closed and its log is read: wait for the job itself to close, then its document."""
        if self.job.source_id != self.job.job_id:
            await self._wait_job_closed()
        try:
            view = await job_view(self.client, self.job.job_id)
            view.result = cap_result(view.result, self.max_result_chars)
            self.done_doc = view.model_dump(mode="json", exclude_none=True)
        except Exception as exc:  # noqa: BLE001 - the stream still ends, saying what it could not read
            self.done_doc = {
                "job_id": self.job.job_id,
                "error": {"type": ErrorType.TEMPORAL_UNAVAILABLE, "message": str(exc)[:300]},
            }
        self.final_seq = self.last_seq
        self.closed = True
        self.partials.clear()
        self.finished.set()
        self._notify()

    async def _wait_job_closed(self) -> None:
        for _ in range(600):
            if await self._job_closed():
                return
            await asyncio.sleep(0.1)

    # --- partial output --------------------------------------------------------------------

    async def _output_poller(self) -> None:
        handle = self.client.get_workflow_handle(self.job.source_id)
        while not self._source_closed.is_set():
            if not self.running_chats:
                version = self._version
                await self.wait_change(version, KEEPALIVE_S)
                continue
            try:
                desc = await handle.describe()
                await self._read_partials(desc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - partial text is best effort; the durable log is not
                log.debug("describe of %s failed: %s", self.job.source_id, exc)
            await asyncio.sleep(OUTPUT_POLL_S)

    async def _read_partials(self, desc) -> None:
        changed = False
        for pending in desc.raw_description.pending_activities:
            if pending.activity_type.name != CHAT_ACTIVITY or not pending.heartbeat_details.payloads:
                continue
            values = await self.client.data_converter.decode(pending.heartbeat_details.payloads)
            try:
                partial = PartialOutput.model_validate(values[0])
            except (ValueError, IndexError):
                continue
            key = partial.step_id or partial.agent
            if key not in self.running_chats:
                continue
            known = self.partials.get(key)
            if known is None or partial.chars > known.chars or partial.attempt != known.attempt:
                self.partials[key] = Partial(key, partial.agent, partial.attempt, partial.chars, partial.tail)
                changed = True
        if changed:
            self._notify()


class Reservation:
    """One stream's place under STREAM_MAX_CONCURRENT; given back once, however the stream ends."""

    def __init__(self, watches: Watches) -> None:
        self._watches: Watches | None = watches

    def release(self) -> None:
        if self._watches is not None:
            self._watches.open_streams -= 1
            self._watches = None


class Watches:
    """Every JobWatch of this gateway process, and the cap on open streams."""

    def __init__(self, client_factory, max_streams: int, max_result_chars: int):
        self._client_factory = client_factory
        self._watches: dict[str, JobWatch] = {}
        self._max_streams, self._max_result_chars = max_streams, max_result_chars
        self._stopping: set[asyncio.Task] = set()
        self.open_streams = 0

    def reserve(self) -> Reservation:
        """A place for one more stream, taken at admission (before its snapshot is read), so streams that are
        still starting count too; 503 TooManyStreams when there is none."""
        if self.open_streams >= self._max_streams:
            raise ApiError(
                ErrorType.TOO_MANY_STREAMS,
                f"this gateway serves {self._max_streams} streams already (STREAM_MAX_CONCURRENT); retry shortly or elsewhere",
            )
        self.open_streams += 1
        return Reservation(self)

    async def subscribe(self, job: WatchedJob) -> JobWatch:
        client = await self._client_factory()
        # From here on no await until the watch is registered: two streams of a job share one watch.
        watch = self._watches.get(job.job_id)
        if watch is None or watch.job != job:
            if watch is not None and watch.subscribers <= 0:
                stopping = asyncio.create_task(watch.stop())
                self._stopping.add(stopping)
                stopping.add_done_callback(self._stopping.discard)
            watch = JobWatch(client, job, self._max_result_chars)
            self._watches[job.job_id] = watch
            watch.start()
        if watch._linger is not None:
            watch._linger.cancel()
            watch._linger = None
        watch.subscribers += 1
        return watch

    def unsubscribe(self, watch: JobWatch) -> None:
        watch.subscribers -= 1
        if watch.subscribers <= 0:
            watch._linger = asyncio.create_task(self._retire(watch))

    async def _retire(self, watch: JobWatch) -> None:
        await asyncio.sleep(0 if watch.closed else LINGER_S)
        if watch.subscribers <= 0 and self._watches.get(watch.job.job_id) is watch:
            del self._watches[watch.job.job_id]
            await watch.stop()

    @property
    def active(self) -> int:
        return len(self._watches)


@dataclass
class Delivery:
    """What one stream has sent of the partial text under its current durable position."""

    offsets: dict[str, int] = field(default_factory=dict)
    minor: int = 0


async def snapshot(watch: JobWatch) -> Snapshot:
    """The job as it is now: its document, and its workflow's own status at seq `seq`."""
    state: Any = None
    seq = watch.last_seq
    with contextlib.suppress(Exception):
        page = await first_answer(lambda: watch.query(watch.last_seq, with_state=True))
        watch.take(page)
        state, seq = page.state, page.last_seq
    view = await job_view(watch.client, watch.job.job_id)
    view.result = cap_result(view.result, watch.max_result_chars)
    if isinstance(state, dict) and isinstance(state.get("steps"), list):
        for step in state["steps"]:
            if isinstance(step, dict):
                step["output"] = cap_result(step.get("output"), 2000)
    data = {"job_id": watch.job.job_id, "kind": watch.job.kind, "seq": seq, "job": view.model_dump(mode="json", exclude_none=True),
            "progress": state}  # fmt: skip
    return Snapshot(seq=seq, data=data)


def event_bytes(job_id: str, event: ProgressEvent) -> bytes:
    data = {"job_id": job_id, "seq": event.seq, "at": event.at.isoformat(), **event.data}
    return sse(str(event.type), data, id=str(event.seq))


async def stream(watch: JobWatch, snap: Snapshot, resume: Cursor | None, *, max_s: float) -> AsyncIterator[bytes]:
    """One client's stream: its snapshot, the durable events after its position, partial output, done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_s
    position = resume or Cursor(snap.seq)
    yield sse("snapshot", snap.data, id=str(position), retry=RETRY_MS)
    seq = position.seq
    sent = Delivery(minor=position.minor)
    if position.minor and len(watch.running_chats) == 1:
        # Resuming inside a chat's text: with one chat running the minor part is its offset.
        sent.offsets[next(iter(watch.running_chats))] = position.minor
    while True:
        version = watch.version
        if seq + 1 < watch.first_buffered:
            # Older than this process keeps: read them from the workflow itself (once per stream).
            page = await first_answer(functools.partial(watch.query, seq))
            for event in page.events:
                if event.seq > seq and event.seq < watch.first_buffered:
                    yield event_bytes(watch.job.job_id, event)
                    seq = event.seq
            if seq + 1 < watch.first_buffered:  # the workflow's bounded log dropped them too
                seq = watch.first_buffered - 1
        for event in watch.events_after(seq):
            yield event_bytes(watch.job.job_id, event)
            seq, sent = event.seq, Delivery(offsets=sent.offsets)
            if event.type == EventType.STEP and event.data.get("state") in ENDED:
                sent.offsets.pop(str(event.data.get("step_id") or ""), None)  # its text is in the event now
        if watch.closed and seq >= watch.final_seq:
            yield sse("done", watch.done_doc, id=str(watch.final_seq + 1))
            return
        if seq == watch.last_seq:
            for chunk in _outputs(watch, seq, sent):
                yield chunk
        remaining = deadline - loop.time()
        if remaining <= 0:
            return  # the client reconnects with Last-Event-ID and loses nothing
        before = watch.version
        await watch.wait_change(version, min(KEEPALIVE_S, remaining))
        if watch.version == before and version == before:
            yield KEEPALIVE


def _outputs(watch: JobWatch, seq: int, sent: Delivery) -> list[bytes]:
    out = []
    for key, partial in list(watch.partials.items()):
        have = sent.offsets.get(key, 0)
        if partial.chars <= have:
            continue
        new = partial.chars - have
        text = partial.tail[-new:] if new <= len(partial.tail) else partial.tail
        skipped = max(new - len(partial.tail), 0)
        sent.offsets[key] = partial.chars
        sent.minor = max(sent.minor + 1, sum(sent.offsets.values()))
        data = {"job_id": watch.job.job_id, "seq": seq, "step_id": key, "agent": partial.agent, "attempt": partial.attempt,
                "offset": partial.chars - len(text), "text": text, "chars": partial.chars}  # fmt: skip
        if skipped:
            data["skipped"] = skipped  # more was written between two reads than a heartbeat carries
        out.append(sse("output", data, id=str(Cursor(seq, sent.minor))))
    return out
