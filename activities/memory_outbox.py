"""Write-behind for `memory.write` on embedded Chroma: the journal is the commit, Chroma follows.

A single memory write used to wait for the embedding (about 7 ms with minilm here) and for embedded
Chroma's upsert (several fsyncs, 6 ms on a quiet disk and 25-40 ms on a busy one): three quarters of a
sync `memory.write`. Now the write is committed to the collection's **journal** (`Journal`: an SQLite
file in `DATA_DIR/memory-journal/`, `synchronous=FULL`, so it is on disk when the commit returns) and
to the lexical index, and is answered. The process's one `Drainer` thread then embeds the journaled
memories in batches, upserts them into Chroma and removes them from the journal.

Embedded Chroma's upsert holds the GIL through its fsyncs (measured: a thread upserting in a loop
stalled this process's event loop for 70% of the time), so an upsert per write would stall every
request in the worker. The drainer is group commit: it starts `delay_s` after the first write it will
take, when DRAIN_BATCH writes are waiting, or at once when somebody waits for the lane.

What a caller can rely on:
- **Durable when answered.** A crash of the worker (or of the machine) after the answer loses nothing:
  the journal is not derived from anything (unlike the lexical index, which may be deleted and is
  rebuilt from Chroma), and the next worker to open the collection drains it. A graceful stop drains
  first (`flush_all`).
- **Read your writes.** A search, get or delete first waits until the journaled writes answered before
  it (by sequence number, not "the journal is empty") are in Chroma. It waits on the event loop, not
  in a thread, and a drainer that keeps failing turns the wait into a typed, retryable error after
  SETTLE_TIMEOUT_S rather than a stale answer.
- **Bounded.** A lane whose backlog reaches BACKLOG_LIMIT makes the next write wait for the drainer.
- **One bad memory cannot block the rest.** A batch Chroma refuses is retried one memory at a time;
  when some go in and others are refused, the refused ones are moved to the journal's `dead` table and
  logged as errors. When every memory is refused, Chroma itself is failing: the batch is retried with
  back-off and nothing is dropped.
- **Fair.** Lanes (one per collection, so per tenant) are drained a batch at a time in turn.

Only with embedded Chroma and a local embedder (`MEMORY_WRITE_BEHIND`, on by default): with
`CHROMA_URL` the memory's home is the server, not this worker's disk, and a remote embedder can fail
(a key, an outage) in ways its caller must hear about; both wait for Chroma before answering.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

SETTLE_TIMEOUT_S = 10.0
BACKLOG_LIMIT = 1000  # journaled writes per lane before a write waits (about 5 s of minilm embedding)
DRAIN_BATCH = 64  # about 0.3 s of minilm: another tenant's reader waits at most one batch
IDLE_EXIT_S = 30.0  # the drainer thread ends after this long with nothing to do (restarted on demand)
MAX_BACKOFF_S = 5.0  # a reader waits SETTLE_TIMEOUT_S: a retry must fit in it
TAG_SEPARATOR = "\x1f"


class Journaled(NamedTuple):
    seq: int
    id: str
    text: str
    tags: list[str]
    speaker_id: str | None
    updated_ts: float
    meta: str  # the Chroma metadata, JSON


class Journal:
    """One collection's journal of answered writes not yet in Chroma (and of the ones Chroma refused)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before it returns: the answer rests on it
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
                "text TEXT NOT NULL, tags TEXT NOT NULL, speaker TEXT, updated_ts REAL NOT NULL, meta TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS dead (id TEXT PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT NULL, "
                "error TEXT NOT NULL, at REAL NOT NULL)"
            )

    def add(self, rows: Sequence[tuple[str, str, Sequence[str], str | None, float, str]]) -> int:
        """Journal (id, text, tags, speaker, stamp, meta JSON) rows, replacing an id's older version; the
        highest sequence number written."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = 0
                for doc_id, text, tags, speaker, stamp, meta in rows:
                    self._db.execute("DELETE FROM outbox WHERE id = ?", (doc_id,))
                    cursor = self._db.execute(
                        "INSERT INTO outbox (id, text, tags, speaker, updated_ts, meta) VALUES (?, ?, ?, ?, ?, ?)",
                        (doc_id, text, TAG_SEPARATOR.join(tags), speaker, stamp, meta),
                    )
                    last = cursor.lastrowid or last
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return last

    def take(self, limit: int) -> list[Journaled]:
        """The oldest `limit` journaled writes."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, text, tags, speaker, updated_ts, meta FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            Journaled(r[0], r[1], r[2], [t for t in r[3].split(TAG_SEPARATOR) if t], r[4], r[5], r[6]) for r in rows
        ]

    def settle(self, seqs: Sequence[int]) -> None:
        """These versions are in Chroma (a newer version of the same id has a newer seq and stays)."""
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def bury(self, row: Journaled, error: str) -> None:
        """Chroma refused this memory while it took others: keep it aside, out of the way."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO dead (id, text, meta, error, at) VALUES (?, ?, ?, ?, ?)",
                (row.id, row.text, row.meta, error, time.time()),
            )
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
            self._db.execute("COMMIT")

    def remove(self, ids: Sequence[str]) -> set[str]:
        """Forget journaled writes of these ids; the ids that were journaled."""
        found = self.pending(ids)
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in found])
        return found

    def pending(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        with self._lock:
            return {r[0] for r in self._db.execute(f"SELECT id FROM outbox WHERE id IN ({marks})", list(ids))}

    def oldest(self) -> int | None:
        with self._lock:
            return self._db.execute("SELECT min(seq) FROM outbox").fetchone()[0]

    def newest(self) -> int:
        with self._lock:
            return self._db.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def dead(self) -> list[tuple[str, str]]:
        """(id, error) of the memories Chroma refused."""
        with self._lock:
            return list(self._db.execute("SELECT id, error FROM dead ORDER BY at"))


class Drained(NamedTuple):
    moved: int
    floor: int | None  # every journaled write up to this seq is in Chroma; None: the journal is empty


@dataclass
class Lane:
    """One collection's journal, as this process's drainer sees it."""

    key: str
    drain_batch: Callable[[], Drained]  # one batch into Chroma
    delay_s: float
    written: int = 0  # the highest journal seq answered
    settled: int = 0  # every journaled write up to this seq is in Chroma
    backlog: int = 0  # journaled writes not yet drained
    first_at: float | None = None  # when the oldest undrained write was journaled (monotonic)
    urgent: bool = False  # somebody waits for this lane: drain now
    failures: int = 0
    retry_at: float = 0.0
    error: str | None = None
    waiters: list[tuple[Callable[[], bool], asyncio.AbstractEventLoop, asyncio.Future]] = field(default_factory=list)


class Drainer:
    """The process's drainer thread, and the waits of readers and writers (on their event loops)."""

    def __init__(self, name: str = "memory-journal"):
        self._name = name
        self._cond = threading.Condition()
        self._lanes: dict[str, Lane] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False

    def lane(
        self, key: str, drain_batch: Callable[[], Drained], *, delay_s: float, newest: int = 0, count: int = 0
    ) -> Lane:
        """A collection's lane (shared by every store of this process that opens it). Writes found in the
        journal on open (a crash, a stop before the drain) are drained right away."""
        with self._cond:
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = Lane(key, drain_batch, delay_s)
            # The newest opener drains: an earlier store of this file may be gone (a closed index).
            lane.drain_batch, lane.delay_s = drain_batch, delay_s
            lane.failures, lane.retry_at = 0, 0.0
            if count:
                lane.written = max(lane.written, newest)
                lane.backlog = max(lane.backlog, count)
                lane.urgent = True
                self._wake()
        return lane

    def journaled(self, lane: Lane, seq: int, count: int) -> None:
        """Writes up to `seq` were committed to the lane's journal (and are about to be answered)."""
        with self._cond:
            lane.written = max(lane.written, seq)
            lane.backlog += count
            if lane.first_at is None:
                lane.first_at = time.monotonic()
            self._wake()

    def kick(self, lane: Lane, newest: int) -> None:
        """Drain the lane now, up to the journal's `newest` seq (a retried write found its earlier
        attempt still journaled)."""
        with self._cond:
            lane.written = max(lane.written, newest)
            lane.urgent = True
            self._wake()

    def has_room(self, lane: Lane) -> bool:
        return lane.backlog < BACKLOG_LIMIT  # a read of an int: a hint, no lock needed

    async def settled(self, lane: Lane, timeout: float | None = None) -> str | None:
        """Until every write journaled so far is in Chroma. None when it is; otherwise why not."""
        with self._cond:
            target = lane.written
        return await self._wait(lane, lambda: lane.settled >= target, timeout)

    async def room(self, lane: Lane, timeout: float | None = None) -> str | None:
        """A writer's backpressure: wait while the lane's backlog is at BACKLOG_LIMIT."""
        return await self._wait(lane, lambda: lane.backlog < BACKLOG_LIMIT, timeout)

    async def _wait(self, lane: Lane, done: Callable[[], bool], timeout: float | None) -> str | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        with self._cond:
            if done():
                return None
            entry = (done, loop, future)
            lane.waiters.append(entry)
            lane.urgent = True
            self._wake()
        limit = SETTLE_TIMEOUT_S if timeout is None else timeout
        try:
            await asyncio.wait_for(future, limit)
            return None
        except TimeoutError:
            with self._cond:
                return lane.error or f"the journal was not drained within {limit:.0f} s"
        finally:
            with self._cond:
                if entry in lane.waiters:
                    lane.waiters.remove(entry)

    def flush_all(self, timeout: float) -> int:
        """A graceful stop: drain every lane (bounded); how many writes stay journaled for next time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for lane in self._lanes.values():
                lane.urgent = True
            self._wake()
            self._cond.wait_for(
                lambda: all(lane.settled >= lane.written for lane in self._lanes.values()),
                max(deadline - time.monotonic(), 0),
            )
            return sum(lane.backlog for lane in self._lanes.values() if lane.settled < lane.written)

    # --- the thread (everything below runs in it, or under the condition) -----------------------

    def stop(self, timeout: float) -> None:
        """At interpreter exit: let a batch in progress finish (bounded) and start no other, so the
        thread is not inside Chroma's or ONNX's native code while the process tears down (that ended a
        process with "terminate called without an active exception"). What is left stays journaled."""
        with self._cond:
            self._stopping = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _wake(self) -> None:
        """Under the condition: make sure the thread runs and sees the news."""
        if self._stopping:
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _due_at(self, lane: Lane) -> float | None:
        """When the lane should next be drained (monotonic), or None: nothing to drain."""
        if lane.settled >= lane.written:
            return None
        ready = lane.first_at + lane.delay_s if lane.first_at is not None else 0.0
        if lane.urgent or lane.backlog >= DRAIN_BATCH:
            ready = 0.0
        return max(ready, lane.retry_at)

    def _due(self) -> list[Lane]:
        now = time.monotonic()
        return [lane for lane in self._lanes.values() if (at := self._due_at(lane)) is not None and at <= now]

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            with self._cond:
                due = self._due()
                while not due or self._stopping:
                    if self._stopping:
                        self._thread = None
                        return
                    waiting = [at for lane in self._lanes.values() if (at := self._due_at(lane)) is not None]
                    if not waiting and time.monotonic() - idle_since > IDLE_EXIT_S:
                        self._thread = None
                        return
                    timeout = max(min(waiting) - time.monotonic(), 0.01) if waiting else IDLE_EXIT_S
                    self._cond.wait(timeout)
                    due = self._due()
            for lane in due:  # a batch per lane in turn: one big backlog does not hold up other tenants
                if self._stopping:
                    break
                self._drain_one(lane)
            idle_since = time.monotonic()

    def _drain_one(self, lane: Lane) -> None:
        with self._cond:
            target = lane.written  # every write answered so far is in the journal, for drain_batch to see
        try:
            moved, floor = lane.drain_batch()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - Chroma's Rust panics are BaseExceptions; the journal keeps the writes
            with self._cond:
                lane.failures += 1
                backoff = min(0.25 * 2**lane.failures, MAX_BACKOFF_S)
                lane.retry_at = time.monotonic() + backoff
                lane.error = f"memories could not be stored in Chroma: {type(exc).__name__}: {exc}"[:500]
            log.warning("memory journal %s: drain failed (%s); retrying in %.1f s", lane.key, lane.error, backoff)
            return
        with self._cond:
            lane.settled = max(lane.settled, target if floor is None else min(floor, target))
            if floor is None:
                lane.backlog, lane.urgent, lane.first_at = 0, False, None
            else:
                lane.backlog = max(lane.backlog - moved, 1)
            lane.failures, lane.retry_at, lane.error = 0, 0.0, None
            self._resolve(lane)
            self._cond.notify_all()

    @staticmethod
    def _resolve(lane: Lane) -> None:
        """Under the condition: answer the waiters whose wait is over, on their own loops."""
        for entry in [w for w in lane.waiters if w[0]()]:
            lane.waiters.remove(entry)
            _, loop, future = entry
            try:
                loop.call_soon_threadsafe(_set_done, future)
            except RuntimeError:  # its loop has closed: nobody is waiting any more
                pass


def _set_done(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


DRAINER = Drainer()  # one per process: every store that opens a collection shares its lane
atexit.register(DRAINER.stop, 5.0)
