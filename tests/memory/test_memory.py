"""The seed's success criterion: "Remember that I prefer Python" ... "What language do I prefer?" -> Python."""

from activities.embeddings import HashEmbedder
from tests.support.stack import isolated_stack


async def remember(http, text, **extra):
    resp = await http.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": text, **extra}})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["id"]


async def search(http, query, **extra):
    resp = await http.post("/orchestrate", json={"intent": "memory.search", "inputs": {"query": query, **extra}})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["hits"]


async def test_write_a_memory_search_for_it_and_get_it_back_first(client, settings, tmp_path):
    fresh = {"data_dir": tmp_path, "chroma_collection": "seed-criterion"}
    async with isolated_stack(client, settings, **fresh) as (http, _):
        for text in [
            "My dog is called Rex",
            "The office wifi password rotates monthly",
            "Meeting with Anna on Tuesday about the language migration",
            "I like hiking on weekends",
        ]:
            await remember(http, text)
        python = await remember(http, "I prefer Python", tags=["preferences"], speaker_id="user-1")

        hits = await search(http, "What language do I prefer?")

    assert hits[0]["id"] == python
    assert hits[0] == {
        "id": python,
        "text": "I prefer Python",
        "tags": ["preferences"],
        "speaker_id": "user-1",
        "score": hits[0]["score"],
    }
    assert hits[0]["score"] > hits[1]["score"]


async def test_search_can_be_narrowed_by_tags_and_k(client, settings, tmp_path):
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="tags") as (http, _):
        await remember(http, "Deploys happen on Thursdays", tags=["ops"])
        await remember(http, "Deploy freeze during the holidays", tags=["ops", "calendar"])
        await remember(http, "Dentist appointment on Thursday", tags=["personal"])

        ops = await search(http, "when do deploys happen", tags=["ops"])
        one = await search(http, "Thursday", k=1)

    assert {h["text"] for h in ops} == {"Deploys happen on Thursdays", "Deploy freeze during the holidays"}
    assert len(one) == 1


async def test_an_empty_memory_finds_nothing_rather_than_failing(client, settings, tmp_path):
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="empty") as (http, _):
        assert await search(http, "anything at all") == []


async def test_memories_persist_in_the_data_dir_across_workers(client, settings, tmp_path):
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="persist") as (http, _):
        mem_id = await remember(http, "The backup server is called Nimbus")
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="persist") as (http, _):
        hits = await search(http, "backup server name")
    assert hits[0]["id"] == mem_id


def test_the_offline_embedder_is_deterministic_and_needs_no_model():
    a, b = HashEmbedder(), HashEmbedder()
    [v1], [v2] = [a._vector("I prefer Python")], [b._vector("I prefer Python")]
    assert v1 == v2
    assert abs(sum(x * x for x in v1) - 1.0) < 1e-9
