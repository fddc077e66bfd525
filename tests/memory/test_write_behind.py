"""A memory.write is answered once it is journaled (fsynced next to its lexical index); the drainer
puts it into Chroma later. The user never sees the difference: the next search finds it, a forget
forgets it, a crash loses nothing, and a Chroma that keeps failing is a typed, retryable error, never
a stale answer or a lost memory."""

import asyncio

import pytest
from temporalio.exceptions import ApplicationError

import activities.memory_outbox as outbox
from activities.embeddings import HashEmbedder
from activities.memory import Memory, MemoryStore
from config import Settings
from gateway.app import create_app
from tests.memory.test_memory import remember, search
from tests.support.gateway import LiveServer, api_client
from tests.support.processes import crash, start_worker, stop
from tests.support.stack import isolated_stack

LATER = 3600.0  # a drain delay no test waits out: only a reader (or the next worker) drains


def store_in(tmp_path, **overrides) -> MemoryStore:
    chosen = {"chroma_url": None, "memory_drain_delay_s": LATER} | overrides
    return MemoryStore(Settings(data_dir=tmp_path, **chosen), HashEmbedder())


async def in_chroma(store: MemoryStore) -> set[str]:
    return set((await store.space()).collection.get(include=[])["ids"])


async def journaled(store: MemoryStore) -> int:
    space = await store.space()
    return space.journal.count() if space.journal else 0


async def test_a_write_is_answered_from_the_journal_and_the_next_search_finds_it(tmp_path):
    store = store_in(tmp_path)
    written = await store.upsert("default", [Memory("mem-py", "I prefer Python for scripts", ["prefs"])], behind=True)

    assert written == 1
    assert await in_chroma(store) == set() and await journaled(store) == 1  # answered before Chroma has it
    hits = await store.search("default", "which language for scripts", k=1)  # waits for its drain
    assert [(h.id, h.tags) for h in hits] == [("mem-py", ["prefs"])]
    assert await in_chroma(store) == {"mem-py"} and await journaled(store) == 0


async def test_a_retry_is_journaled_once_and_a_changed_text_replaces_it(tmp_path):
    store = store_in(tmp_path)
    again = Memory("mem-1", "The backup server is Nimbus", [])
    assert await store.upsert("default", [again], behind=True) == 1
    assert await store.upsert("default", [again], behind=True) == 0  # an activity retry: nothing new
    assert await store.upsert("default", [Memory("mem-1", "The backup server is Stratus", [])], behind=True) == 1

    assert [h.text for h in await store.search("default", "backup server", k=3)] == ["The backup server is Stratus"]
    got = (await store.space()).collection.get(ids=["mem-1"], include=["documents"])
    assert got["documents"] == ["The backup server is Stratus"]


async def test_forgetting_a_memory_still_on_its_way_means_it_never_arrives(tmp_path):
    store = store_in(tmp_path)
    await store.upsert("default", [Memory("mem-secret", "The door code is 4711", [])], behind=True)

    assert await store.delete("default", ["mem-secret"]) == ["mem-secret"]
    await store.settled()
    assert await in_chroma(store) == set() and await journaled(store) == 0
    assert await store.search("default", "door code", k=3) == []


async def test_a_failing_chroma_keeps_the_writes_and_reads_fail_typed_until_it_recovers(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(outbox, "BACKLOG_LIMIT", 2)
    store = store_in(tmp_path)
    space = await store.space()
    real_upsert = space.collection.upsert

    def broken(**_):
        raise ConnectionError("disk full")

    monkeypatch.setattr(space.collection, "upsert", broken)
    for i in range(2):
        await store.upsert("default", [Memory(f"mem-{i}", f"note number {i}", [])], behind=True)

    with pytest.raises(ApplicationError) as searching:
        await store.search("default", "note", k=5)
    with pytest.raises(ApplicationError) as writing:  # over the backlog: a write waits, then says why
        await store.upsert("default", [Memory("mem-2", "note number 2", [])], behind=True)
    for refused in (searching.value, writing.value):
        assert refused.type == "UpstreamUnavailable" and not refused.non_retryable
        assert "disk full" in refused.message
    assert await journaled(store) == 2  # nothing is lost

    monkeypatch.setattr(space.collection, "upsert", real_upsert)  # Chroma is back: the drainer's retry lands
    monkeypatch.setattr(outbox, "SETTLE_TIMEOUT_S", 10.0)  # (after its back-off)
    hits = await store.search("default", "note number", k=5)
    assert {h.id for h in hits} == {"mem-0", "mem-1"} and await journaled(store) == 0


def test_with_a_chroma_server_writes_wait_for_the_server(tmp_path):
    assert store_in(tmp_path).write_behind is True
    assert store_in(tmp_path, chroma_url="http://127.0.0.1:9").write_behind is False
    assert store_in(tmp_path, memory_write_behind=False).write_behind is False


async def test_remember_then_ask_at_once_through_the_gateway(client, settings, tmp_path, unique):
    # The seed's story with no pause at all between the two requests (and a drain delay never waited out).
    async with isolated_stack(
        client, settings, data_dir=tmp_path, chroma_collection="at-once", memory_drain_delay_s=LATER
    ) as (http, _):
        python = await remember(http, f"I prefer Python ({unique})")
        hits = await search(http, "What language do I prefer?", k=1)
    assert [h["id"] for h in hits] == [python]


async def test_a_memory_answered_survives_its_worker_being_killed(client, settings, tmp_path, unique):
    local = settings.model_copy(update={"task_queue": f"wb-{unique}", "data_dir": tmp_path})
    # The first worker would drain only after an hour: it is killed with the memory in its journal.
    first = start_worker(local, MEMORY_DRAIN_DELAY_S=str(LATER), EMBEDDER="hash")
    second = None
    try:
        async with LiveServer(create_app(local, client=client)) as server, api_client(server.url) as http:
            kept = await remember(http, f"The spare key is under the blue pot ({unique})")
            crash(first)
            killed = store_in(tmp_path)  # read what the dead worker left, as a new process would
            assert await journaled(killed) == 1 and await in_chroma(killed) == set()
            del killed

            second = start_worker(local, EMBEDDER="hash")
            hits = await search(http, "where is the spare key", k=1)
    finally:
        stop(first)
        if second:
            stop(second)
    assert [h["id"] for h in hits] == [kept]
    after = store_in(tmp_path)
    assert await in_chroma(after) == {kept} and await journaled(after) == 0
    await asyncio.sleep(0)
