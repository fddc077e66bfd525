"""Races and failures of memory.write's write-behind (activities/memory_outbox.py), found by an adversarial
review: each test names a way an answered write could be lost, read stale, or make reads fail while
Chroma is healthy, and shows that it is not.

They drive MemoryStore directly (embedded Chroma in tmp_path, a hash embedder); a drain delay of an hour
means only a reader (or a test) drains, so every interleaving below is forced, not timed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import pytest
from temporalio.exceptions import ApplicationError

import activities.memory_outbox as outbox
from activities.embeddings import HashEmbedder
from activities.memory import Memory, MemoryStore
from config import Settings

LATER = 3600.0


def store_in(tmp_path, embedder=None, **overrides) -> MemoryStore:
    chosen = {"chroma_url": None, "memory_drain_delay_s": LATER} | overrides
    return MemoryStore(Settings(data_dir=tmp_path, **chosen), embedder or HashEmbedder())


async def in_chroma(store: MemoryStore, tenant: str = "default") -> set[str]:
    return set((await store.space(tenant)).collection.get(include=[])["ids"])


class SlowLocal(HashEmbedder):
    """A local embedder (the drainer embeds) that takes `per_text` seconds a text, like minilm on a
    busy 2-core machine (~5 ms a short text here, more for long ones). Queries are embedded at once."""

    def __init__(self, per_text: float):
        super().__init__()
        self.per_text = per_text

    def vectors(self, texts: list[str]) -> list[list[float]]:
        time.sleep(self.per_text * len(texts))
        return [self._vector(t) for t in texts]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


class RemoteLike:
    """An embedder with no `vectors` (like `openai`): it can fail, so its writes wait for Chroma."""

    name = "remote8"

    def __init__(self):
        self._hash = HashEmbedder(8)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._hash._vector(t) for t in texts]


async def test_a_search_racing_a_drain_does_not_drop_a_drained_memory_from_the_lexical_index(tmp_path, monkeypatch):
    """A memory written after a search began, and drained while it runs, is in the journal or in Chroma
    whichever the search asks: it is never taken for a memory that is gone (and dropped from the index)."""
    store = store_in(tmp_path)
    space = await store.space()
    await store.upsert("default", [Memory("mem-cat", "The cat is named Tom", [])], behind=True)
    await store.settled()
    late = Memory("mem-late", "The boiler service is on Friday", [])
    real_pending = space.journal.pending
    state = {"written": False, "drained": False}

    def written_after_the_search_settled(_space):  # runs in the search's thread, after its wait
        if not state["written"]:
            state["written"] = True
            store._commit(space, space.lane, [late])

    def drained_right_after_the_journal_answers(ids):
        found = real_pending(ids)
        if "mem-late" in ids and not state["drained"]:
            state["drained"] = True
            store._drain_batch(space)  # the drainer thread, in the window before Chroma is asked
        return found

    monkeypatch.setattr(store, "_maybe_sync", written_after_the_search_settled)
    monkeypatch.setattr(space.journal, "pending", drained_right_after_the_journal_answers)
    await store.search("default", "boiler service", k=3)
    assert state["drained"], "the race window was not reached"

    await store.settled()
    assert "mem-late" in await in_chroma(store)
    assert space.index.lookup(["mem-late"]), "mem-late is in Chroma but was dropped from the lexical index"


async def test_a_write_retried_after_its_cancelled_attempt_committed_is_read_back(tmp_path, monkeypatch):
    """memory.write is a local activity (20 s timeout, retried in the same worker). A cancelled attempt's
    commit still runs to its end in its thread, and the drainer hears of it; the retry journals nothing
    new, and a read finds the memory."""
    store = store_in(tmp_path)
    await store.space()
    real_commit = store._commit

    def slow_commit(*args):
        time.sleep(0.4)  # e.g. BEGIN IMMEDIATE waiting on a busy file (sqlite timeout is 30 s)
        return real_commit(*args)

    monkeypatch.setattr(store, "_commit", slow_commit)
    memory = Memory("mem-wifi", "The wifi password is on the fridge", [])
    attempt = asyncio.create_task(store.upsert("default", [memory], behind=True))
    await asyncio.sleep(0.1)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    await asyncio.sleep(0.6)  # the attempt's thread commits after all
    monkeypatch.setattr(store, "_commit", real_commit)

    assert await store.upsert("default", [memory], behind=True) == 0  # the retry: nothing new to journal
    assert [h.id for h in await store.get("default", ["mem-wifi"])] == ["mem-wifi"], "answered, not read back"


async def test_a_missing_index_file_rebuilt_from_chroma_keeps_the_answered_writes(tmp_path):
    """The lexical index is derived from Chroma ('a missing file is rebuilt'); the journal is not part of
    it, so losing the index file loses no answered write."""
    store = store_in(tmp_path)
    space = await store.space()
    await store.upsert("default", [Memory("mem-key", "The spare key is under the blue pot", [])], behind=True)
    path = space.index.path
    space.index.close()  # the worker stops (the journal is fsynced: 'durable when answered')
    del store, space
    for f in path.parent.glob(path.name + "*"):
        f.unlink()  # 'Derived from Chroma: a missing file is rebuilt'

    after = store_in(tmp_path)
    hits = await after.search("default", "where is the spare key", k=1)
    assert [h.id for h in hits] == ["mem-key"], "an answered memory was lost with the index file"


async def test_a_second_store_in_the_process_reads_the_first_stores_writes(tmp_path):
    """Two MemoryStores on one data dir (two workers in one process: benches, tests) share one lane."""
    writer, reader = store_in(tmp_path), store_in(tmp_path)
    await reader.space()
    await writer.upsert("default", [Memory("mem-a", "The garage code is 1234", [])], behind=True)
    assert [h.id for h in await reader.get("default", ["mem-a"])] == ["mem-a"], "stale read via the other store"


async def test_one_memory_chroma_refuses_is_set_aside_and_the_rest_go_on(tmp_path, monkeypatch, caplog):
    """A memory Chroma refuses, in a batch of others it takes, is moved to the journal's `dead` table and
    logged as an error; the others land, reads work, and later writes drain."""
    store = store_in(tmp_path)
    space = await store.space()
    real_upsert = space.collection.upsert

    def refuses_poison(**kw):
        if any("poison" in d for d in kw["documents"]):
            raise ValueError("Expected metadata value to be a str, int, float or bool")
        real_upsert(**kw)

    monkeypatch.setattr(space.collection, "upsert", refuses_poison)
    await store.upsert("default", [Memory("mem-good", "deploys happen on thursday", [])], behind=True)
    await store.upsert("default", [Memory("mem-bad", "poison pill text", [])], behind=True)
    with caplog.at_level(logging.ERROR, logger="activities.memory"):
        hits = await store.search("default", "deploys thursday", k=3)
    await store.upsert("default", [Memory("mem-later", "backups run on friday", [])], behind=True)

    assert "mem-good" in {h.id for h in hits}
    assert "mem-later" in {h.id for h in await store.search("default", "backups friday", k=3)}
    assert await in_chroma(store) == {"mem-good", "mem-later"}
    assert [i for i, _ in space.journal.dead()] == ["mem-bad"] and not space.index.lookup(["mem-bad"])
    assert "mem-bad" in caplog.text and "dead" in caplog.text


async def test_a_remote_embedders_write_waits_for_chroma(tmp_path):
    """An embedder that can fail (a remote endpoint) embeds before the answer, and Chroma has the memory
    when it is answered."""
    store = store_in(tmp_path, embedder=RemoteLike())
    assert store.write_behind is False
    await store.upsert("default", [Memory("mem-v", "deploys happen on thursday", ["ops"], "ann")], behind=True)
    assert await in_chroma(store) == {"mem-v"}


async def test_a_healthy_tenants_read_does_not_wait_for_another_tenants_long_drain(tmp_path, monkeypatch):
    """Lanes are drained a batch at a time in turn: tenant B's read waits for one batch of tenant A's
    backlog, not for all of it."""
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(outbox, "DRAIN_BATCH", 8)
    store = store_in(tmp_path, embedder=SlowLocal(per_text=0.02))
    await store.space("tenant-b")
    for i in range(100):
        await store.upsert("tenant-a", [Memory(f"mem-a{i}", f"tenant a note {i}", [])], behind=True)
    a_reader = asyncio.create_task(store.search("tenant-a", "note", k=1))  # A's drain starts (~2 s)
    await asyncio.sleep(0.2)
    await store.upsert("tenant-b", [Memory("mem-b", "tenant b prefers tea", [])], behind=True)
    try:
        started = time.monotonic()
        hits = await store.search("tenant-b", "tea", k=1)
        took = time.monotonic() - started
    finally:
        await asyncio.gather(a_reader, return_exceptions=True)
        monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 10.0)
        await store.settled("tenant-a")
    assert [h.id for h in hits] == ["mem-b"] and took < 0.5


async def test_a_reader_waits_for_the_writes_before_it_not_for_every_write_after_it(tmp_path, monkeypatch):
    """Under a steady stream of writes that outpaces the drainer, a reader waits for the writes answered
    before it (the lane settles batch by batch, by sequence number), not for the journal to be empty."""
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 2.0)
    monkeypatch.setattr(outbox, "DRAIN_BATCH", 16)
    embedder = SlowLocal(per_text=0.02)  # ~50 memories a second drained
    store = store_in(tmp_path, embedder=embedder)
    for i in range(10):
        await store.upsert("default", [Memory(f"mem-{i}", f"first note {i}", [])], behind=True)
    stop = asyncio.Event()

    async def stream_of_writes():
        n = 0
        while not stop.is_set():
            n += 1
            await store.upsert("default", [Memory(f"mem-s{n}", f"streamed note {n}", [])], behind=True)
            await asyncio.sleep(0.002)

    writer = asyncio.create_task(stream_of_writes())
    try:
        await asyncio.sleep(0.05)
        started = time.monotonic()
        hits = await store.search("default", "first note", k=3)  # needs only mem-0..9: ~0.2 s of drain
        took = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.gather(writer, return_exceptions=True)
        embedder.per_text = 0.0
        await store.settled()
    assert len(hits) == 3 and took < 1.5


async def test_readers_waiting_on_a_failing_lane_do_not_stall_everything_else(tmp_path, monkeypatch):
    """Readers wait on the event loop, not in threads of its default executor: many reads of a tenant whose
    drainer fails leave every other `to_thread` in the worker (another tenant's write, here) alone."""
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 1.5)
    store = store_in(tmp_path)
    broken = await store.space("acme")
    await store.space("default")

    def disk_full(**_):
        raise OSError("disk full")

    monkeypatch.setattr(broken.collection, "upsert", disk_full)
    await store.upsert("acme", [Memory("mem-acme", "acme note", [])], behind=True)
    executor_threads = min(32, (os.cpu_count() or 1) + 4)
    readers = [asyncio.create_task(store.search("acme", "note", k=1)) for _ in range(executor_threads + 2)]
    await asyncio.sleep(0.2)
    try:
        started = time.monotonic()
        await store.upsert("default", [Memory("mem-other", "another tenant's note", [])], behind=True)
        took = time.monotonic() - started
    finally:
        results = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(r, ApplicationError) for r in results)
    assert took < 0.5, f"a healthy tenant's write took {took:.1f} s behind readers parked on a failing lane"


class PanicException(BaseException):
    """What a Rust panic in chromadb's binding raises (pyo3_runtime.PanicException derives from
    BaseException, not Exception; chroma-core/chroma#4365, #5909 show such panics in the wild)."""


async def test_a_panic_in_chroma_does_not_kill_the_drainer_silently(tmp_path, monkeypatch):
    """A Rust panic (a BaseException) is a failed drain like any other: retried with back-off, and readers
    are told its cause."""
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 1.0)
    store = store_in(tmp_path)
    space = await store.space()

    def panics(**_):
        raise PanicException("range start index 10 out of range for slice of length 9")

    monkeypatch.setattr(space.collection, "upsert", panics)
    await store.upsert("default", [Memory("mem-p", "a note", [])], behind=True)
    with pytest.raises(ApplicationError) as refused:
        await store.search("default", "note", k=1)
    assert "range start index" in refused.value.message, refused.value.message
    assert outbox.DRAINER._thread is not None and outbox.DRAINER._thread.is_alive()


async def test_memories_journaled_under_the_old_embedder_are_adopted_by_the_new_one(tmp_path):
    """After EMBEDDER changes, an empty collection adopts the memories of the old one: those in its Chroma
    collection and those still in its journal (the worker was killed right after answering)."""
    before = store_in(tmp_path, embedder=HashEmbedder(512))
    await before.upsert("default", [Memory("m0", "The cat is named Tom", [])], behind=True)
    await before.settled()
    await before.upsert("default", [Memory("m1", "The backup server is called Nimbus", ["ops"])], behind=True)
    after = store_in(tmp_path, embedder=HashEmbedder(256))  # EMBEDDER changed, the worker restarted

    hits = await after.search("default", "backup server", k=1)
    assert [h.id for h in hits] == ["m1"], "an answered memory was left behind in the old collection's journal"


async def test_a_rewrite_committed_while_the_drain_upserts_the_old_version_still_wins(tmp_path, monkeypatch):
    """v1 is taken by a drain; v2 is committed while v1 is being upserted; the settle of (id, v1 stamp)
    leaves v2's row, and the next drain (a reader's) replaces v1 in Chroma."""
    store = store_in(tmp_path)
    space = await store.space()
    await store.upsert("default", [Memory("mem-1", "The backup server is Nimbus", ["ops"])], behind=True)
    real_upsert = space.collection.upsert
    done = {"v2": False}

    def upsert_then_rewrite(**kw):
        real_upsert(**kw)
        if not done["v2"]:
            done["v2"] = True
            new = Memory("mem-1", "The backup server is Stratus", ["infra"], speaker_id="ann")
            store._commit(space, space.lane, [new])

    monkeypatch.setattr(space.collection, "upsert", upsert_then_rewrite)
    await store.settled()
    monkeypatch.setattr(space.collection, "upsert", real_upsert)
    hits = await store.get("default", ["mem-1"])
    assert [(h.text, h.tags, h.speaker_id) for h in hits] == [("The backup server is Stratus", ["infra"], "ann")]
    assert space.journal.count() == 0


async def test_a_delete_during_a_drain_is_not_undone_by_it(tmp_path, monkeypatch):
    """A delete waits for the lane and then for the file's drain lock, so a drain that took the memory
    cannot put it back after the delete."""
    store = store_in(tmp_path)
    space = await store.space()
    await store.upsert("default", [Memory("mem-s", "The door code is 4711", [])], behind=True)
    real_upsert = space.collection.upsert
    in_upsert = threading.Event()

    def slow_upsert(**kw):
        in_upsert.set()
        time.sleep(0.3)
        real_upsert(**kw)

    monkeypatch.setattr(space.collection, "upsert", slow_upsert)
    settling = asyncio.create_task(store.settled())
    await asyncio.to_thread(in_upsert.wait, 5)
    assert await store.delete("default", ["mem-s"]) == ["mem-s"]
    await settling
    await store.upsert("default", [Memory("mem-t", "unrelated", [])], behind=True)
    await store.settled()
    assert "mem-s" not in await in_chroma(store) and not space.index.lookup(["mem-s"])


async def test_journaled_writes_of_two_tenants_stay_in_their_own_collections(tmp_path):
    store = store_in(tmp_path)
    await store.upsert("acme", [Memory("mem-x", "acme secret", ["t"])], behind=True)
    await store.upsert("globex", [Memory("mem-y", "globex secret", ["t"])], behind=True)
    assert [h.id for h in await store.search("acme", "secret", k=5)] == ["mem-x"]
    assert [h.id for h in await store.search("globex", "secret", k=5)] == ["mem-y"]
    assert await in_chroma(store, "acme") == {"mem-x"} and await in_chroma(store, "globex") == {"mem-y"}


async def test_a_restart_drains_rows_left_by_the_previous_store(tmp_path):
    first = store_in(tmp_path)
    await first.upsert("default", [Memory("mem-r", "The meeting room is Orion", [])], behind=True)
    second = store_in(tmp_path)  # another process would see the same file
    assert [h.id for h in await second.get("default", ["mem-r"])] == ["mem-r"]
