"""The lexical index stays the index of Chroma: same ids, one entry per id however often it is written,
gone when the memory is gone, and rebuilt from Chroma when its file is lost."""

from activities.embeddings import HashEmbedder
from activities.memory import Memory, MemoryStore
from config import Settings


def store_in(tmp_path, **overrides) -> MemoryStore:
    return MemoryStore(Settings(data_dir=tmp_path, chroma_url=None, **overrides), HashEmbedder())


async def both_sides(store: MemoryStore) -> tuple[set[str], set[str]]:
    space = await store.space()
    return set(space.collection.get(include=[])["ids"]), space.index.ids()


async def test_a_rewrite_replaces_and_a_delete_removes_on_both_sides(tmp_path):
    store = store_in(tmp_path)
    await store.upsert(
        "default",
        [Memory("mem-a", "The backup server is called Nimbus", ["ops"]), Memory("mem-b", "Lunch is at noon", [])],
    )
    # A retry writes the same id again (here with a changed text): still one memory, indexed by its new words.
    await store.upsert("default", [Memory("mem-a", "The backup server is called Stratus", ["ops"])])

    assert await both_sides(store) == ({"mem-a", "mem-b"}, {"mem-a", "mem-b"})
    assert [h.id for h in await store.search("default", "Stratus", k=1)] == ["mem-a"]
    space = await store.space()
    assert [m.id for m in space.index.search(["nimbus"], 10)] == []

    assert await store.delete("default", ["mem-a", "mem-never"]) == ["mem-a"]
    assert await both_sides(store) == ({"mem-b"}, {"mem-b"})
    assert "mem-a" not in {h.id for h in await store.search("default", "backup server Stratus", k=3)}


async def test_keywords_rank_by_bm25_and_respect_tags(tmp_path):
    store = store_in(tmp_path)
    await store.upsert("default", [
        Memory("m1", "Deploys happen on Thursdays", ["ops"]),
        Memory("m2", "Deploy freeze during the holidays, deploys resume in January", ["ops", "calendar"]),
        Memory("m3", "Dentist appointment on Thursday", ["personal"]),
    ])  # fmt: skip
    space = await store.space()
    assert {m.id for m in space.index.search(["deploys"], 10)} == {"m1", "m2"}
    assert [m.id for m in space.index.search(["thursday"], 10, tags=["personal"])] == ["m3"]
    assert {h.id for h in await store.search("default", "when do deploys happen", k=5, tags=["ops"])} == {"m1", "m2"}


async def test_a_lost_index_file_is_rebuilt_from_chroma(tmp_path):
    store = store_in(tmp_path)
    await store.upsert("default", [Memory(f"m{i}", f"memory number {i} about topic{i}", []) for i in range(1200)])
    for f in (tmp_path / "memory-index").iterdir():
        f.unlink()

    again = store_in(tmp_path)  # a new worker process: its index file is gone, Chroma is not
    assert [h.id for h in await again.search("default", "topic1111", k=1)] == ["m1111"]
    ids_in_chroma, ids_in_index = await both_sides(again)
    assert ids_in_index == ids_in_chroma and len(ids_in_index) == 1200


async def test_the_one_memory_naming_the_keyword_comes_first_even_when_the_vector_index_misses_it(tmp_path):
    """Chroma's HNSW search is approximate: over 120 near-alike memories it missed the exact nearest one
    in 1 to 5 of 12 fresh stores here (this test's stores: 0 to 2 of 6), and the fused ranking then
    answered "rack 0" for "rack 42". A keyword hit the vector query did not return is scored exactly, so
    it keeps the rank it has. Before that, this test failed in 2 of 4 runs."""
    racks = [Memory(f"rack-{i:03d}", f"Server rack {i} sits in room {i % 7}", ["inventory"]) for i in range(120)]
    missed = 0
    for attempt in range(10):  # fresh stores: the HNSW graph differs from one to the next
        store = store_in(tmp_path / str(attempt))
        for size in (50, 32):  # an import, then the same file again in other batches (nothing rewritten)
            for first in range(0, len(racks), size):
                await store.upsert("default", racks[first : first + size])
        space = await store.space()
        [query] = await store.embedder.embed(["Server rack 42"])
        found = space.collection.query(query_embeddings=[query], n_results=20, include=[])["ids"][0]
        missed += "rack-042" not in found

        hits = await store.search("default", "Server rack 42", k=1)
        assert [h.text for h in hits] == ["Server rack 42 sits in room 0"], (attempt, found)
    print(f"the vector index missed rack 42 in {missed} of 10 stores")  # the test holds either way
