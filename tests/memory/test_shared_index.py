"""Several workers, one Chroma server (CHROMA_URL): each worker keeps its own lexical index, derived from
Chroma, and every worker sees what any of them wrote or deleted."""

from activities.embeddings import HashEmbedder
from activities.memory import Memory, MemoryStore
from config import Settings
from tests.support.chroma_server import chroma_server


def worker_store(tmp_path, name: str, port: int) -> MemoryStore:
    settings = Settings(data_dir=tmp_path / name, chroma_url=f"http://127.0.0.1:{port}", memory_index_sync_s=0)
    return MemoryStore(settings, HashEmbedder())


async def lexical_ids(store: MemoryStore) -> set[str]:
    return (await store.space()).index.ids()


async def test_every_worker_sees_the_same_memories_through_its_own_index(tmp_path):
    with chroma_server(tmp_path / "chroma") as port:
        a, b = worker_store(tmp_path, "worker-a", port), worker_store(tmp_path, "worker-b", port)
        await a.upsert("default", [Memory("m1", "The backup server is called Nimbus", ["ops"])])
        await b.space()  # worker b starts after a wrote: its new index is built from Chroma
        await a.upsert("default", [Memory("m2", "Deploys happen on Thursdays", ["ops"])])

        # b takes a's later write into its own index when it searches (sync from Chroma)
        assert [h.id for h in await b.search("default", "Thursdays deploys", k=1)] == ["m2"]
        assert await lexical_ids(b) == {"m1", "m2"}
        await b.upsert("default", [Memory("m3", "The VPN gateway is named Cirrus", [])])
        assert [h.id for h in await a.search("default", "Cirrus", k=1)] == ["m3"]

        # a deletes: b never shows it again, and drops it from its index when it meets it
        assert await a.delete("default", ["m1"]) == ["m1"]
        assert "m1" not in {h.id for h in await b.search("default", "Nimbus backup server", k=3)}
        assert await lexical_ids(b) == {"m2", "m3"}
        assert (await a.space()).index.ids() == {"m2", "m3"}
        # the files are each worker's own; Chroma is the one source of truth
        assert (tmp_path / "worker-a" / "memory-index").is_dir() and (tmp_path / "worker-b" / "memory-index").is_dir()


async def test_memories_written_under_another_embedder_are_re_embedded_on_first_use(tmp_path):
    before = MemoryStore(Settings(data_dir=tmp_path, chroma_url=None), HashEmbedder(512))
    await before.upsert("default", [Memory("m1", "The backup server is called Nimbus", ["ops"])])
    after = MemoryStore(Settings(data_dir=tmp_path, chroma_url=None), HashEmbedder(256))  # EMBEDDER changed

    hits = await after.search("default", "backup server", k=1, tags=["ops"])
    assert [(h.id, h.text, h.tags) for h in hits] == [("m1", "The backup server is called Nimbus", ["ops"])]
    assert (await after.space()).collection.name == "memories-hash256"
