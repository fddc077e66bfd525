"""Write-behind for `memory.write` on embedded Chroma: the journal is the commit, Chroma follows.

A single memory write used to wait for the embedding (about 7 ms with minilm here) and for embedded
Chroma's upsert (several fsyncs, 6 ms on a quiet disk and 25-40 ms on a busy one): three quarters of a
sync `memory.write`. Now the write commits the memory to its lexical index together with an `outbox`
row, in one SQLite transaction with `synchronous=FULL` (activities/memory_index.py), and is answered.
That commit is as durable as Chroma's own (it is on the same disk, fsynced); this module's drainer
thread then embeds the journaled memories in batches and upserts them into Chroma, and clears their
outbox rows.

What a caller can rely on:
- **Durable when answered.** A crash of the worker (or of the machine) after the answer loses nothing:
  the next worker that opens the collection finds the outbox rows and drains them.
- **Read your writes.** A search, get or delete first waits until every write this process answered
  before it is in Chroma (`wait_settled`); a drainer that keeps failing turns that wait into a typed,
  retryable error after `SETTLE_TIMEOUT_S` rather than a stale answer.
- **Bounded.** A lane whose backlog passes `BACKLOG_LIMIT` makes the next write wait for the drainer,
  so writes can never outrun Chroma by more than that.
- **Errors the caller must hear still reach the caller.** An embedder that can fail on its own (a
  remote endpoint: bad key, outage) embeds in the activity before the commit; only local embedders,
  which cannot fail on input, are deferred to the drainer.

Only with embedded Chroma (`MEMORY_WRITE_BEHIND`, on by default): with `CHROMA_URL` the memory's home
is the server, not this worker's disk, so a write waits for the server as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SETTLE_TIMEOUT_S = 10.0
# Group commit: a drain starts MEMORY_DRAIN_DELAY_S after the first write it takes, when DRAIN_BATCH
# writes are waiting, or at once when a reader is waiting. Embedded Chroma's upsert holds the GIL through its
# fsyncs (measured: a thread upserting in a loop stalls this process's event loop for 70% of the
# time), so an upsert per write would stall every request; one upsert per batch stalls rarely.
DRAIN_BATCH = 256
BACKLOG_LIMIT = 2000  # journaled writes per lane before a write waits for the drainer
IDLE_EXIT_S = 30.0  # the drainer thread ends after this long with nothing to do (restarted on demand)
MAX_BACKOFF_S = 5.0  # a reader waits SETTLE_TIMEOUT_S: a retry must fit in it


@dataclass
class Lane:
    """One collection's journal, as this process sees it."""

    key: str
    drain: Callable[[], int]  # moves the journaled writes to Chroma (all of them); returns how many
    written: int = 0  # writes answered (a sequence number)
    settled: int = 0  # every write up to this one is in Chroma
    backlog: int = 0  # journaled writes not yet drained (approximate; what the writers added)
    failures: int = 0
    first_at: float | None = None  # when the oldest undrained write was journaled (monotonic)
    urgent: bool = False  # somebody waits for this lane: drain now
    retry_at: float = 0.0
    error: str | None = None


class Drainer:
    """A daemon thread that drains every lane with work, and the waits that readers and writers need."""

    def __init__(self, delay_s: float = 1.0, name: str = "memory-outbox"):
        self._delay_s = delay_s
        self._name = name
        self._cond = threading.Condition()
        self._lanes: dict[str, Lane] = {}
        self._thread: threading.Thread | None = None

    def lane(self, key: str, drain: Callable[[], int], *, pending: int = 0) -> Lane:
        """Register a collection's lane; `pending` (rows found in its outbox on open: a crash, or a
        worker stopped mid-drain) are drained right away."""
        with self._cond:
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = Lane(key, drain)
            if pending:
                lane.written += 1
                lane.backlog += pending
                lane.urgent = True
                self._wake()
        return lane

    def journaled(self, lane: Lane, count: int) -> None:
        """`count` writes were committed to the lane's outbox (and are about to be answered)."""
        with self._cond:
            lane.written += 1
            lane.backlog += count
            if lane.first_at is None:
                lane.first_at = time.monotonic()
            self._wake()

    def wait_settled(self, lane: Lane, timeout: float | None = None) -> str | None:
        """Until every write journaled so far is in Chroma. None when it is; otherwise why not."""
        timeout = SETTLE_TIMEOUT_S if timeout is None else timeout
        with self._cond:
            target = lane.written
            if lane.settled >= target:
                return None
            lane.urgent = True
            self._wake()
            if self._cond.wait_for(lambda: lane.settled >= target, timeout):
                return None
            return lane.error or f"the drainer did not finish within {timeout:.0f} s"

    def has_room(self, lane: Lane) -> bool:
        return lane.backlog < BACKLOG_LIMIT  # a read of an int: no lock needed for a hint

    def wait_for_room(self, lane: Lane, timeout: float | None = None) -> str | None:
        """A writer's backpressure: wait while the lane's backlog is over BACKLOG_LIMIT."""
        timeout = SETTLE_TIMEOUT_S if timeout is None else timeout
        with self._cond:
            if lane.backlog < BACKLOG_LIMIT:
                return None
            lane.urgent = True
            self._wake()
            if self._cond.wait_for(lambda: lane.backlog < BACKLOG_LIMIT, timeout):
                return None
            return lane.error or f"{lane.backlog} memories are still on their way to Chroma"

    # --- the thread ----------------------------------------------------------------------------

    def _wake(self) -> None:
        """Under the condition: make sure the thread runs and sees the news."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _due_at(self, lane: Lane) -> float | None:
        """When the lane should next be drained (monotonic), or None: nothing to drain."""
        if lane.settled >= lane.written:
            return None
        ready = lane.first_at + self._delay_s if lane.first_at is not None else 0.0
        if lane.urgent or lane.backlog >= DRAIN_BATCH:
            ready = 0.0
        return max(ready, lane.retry_at)

    def _due(self) -> list[tuple[Lane, int]]:
        now = time.monotonic()
        due = []
        for lane in self._lanes.values():
            at = self._due_at(lane)
            if at is not None and at <= now:
                lane.urgent, lane.first_at = False, None  # writes journaled from here on start a new batch
                due.append((lane, lane.written))
        return due

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            with self._cond:
                due = self._due()
                while not due:
                    waiting = [at for lane in self._lanes.values() if (at := self._due_at(lane)) is not None]
                    if not waiting and time.monotonic() - idle_since > IDLE_EXIT_S:
                        self._thread = None
                        return
                    timeout = max(min(waiting) - time.monotonic(), 0.01) if waiting else IDLE_EXIT_S
                    self._cond.wait(timeout)
                    due = self._due()
            for lane, target in due:
                self._drain(lane, target)
            idle_since = time.monotonic()

    def _drain(self, lane: Lane, target: int) -> None:
        try:
            moved = lane.drain()
        except Exception as exc:  # noqa: BLE001 - any failure is retried; the journal keeps the writes
            with self._cond:
                lane.failures += 1
                backoff = min(0.25 * 2**lane.failures, MAX_BACKOFF_S)
                lane.retry_at = time.monotonic() + backoff
                lane.error = f"memories could not be stored in Chroma: {type(exc).__name__}: {exc}"[:500]
                self._cond.notify_all()
            log.warning("memory outbox %s: drain failed (%s); retrying in %.1f s", lane.key, lane.error, backoff)
            return
        with self._cond:
            lane.settled = max(lane.settled, target)
            lane.backlog = max(lane.backlog - moved, 0) if lane.settled < lane.written else 0
            lane.failures, lane.retry_at, lane.error = 0, 0.0, None
            self._cond.notify_all()
