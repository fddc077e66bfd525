"""'Forget that': memory.delete previews first (by query or ids), then deletes exactly the ids it is
given, from Chroma and the lexical index; a repeat deletes nothing more."""

from tests.memory.test_memory import remember, search
from tests.support.stack import isolated_stack


async def delete(http, **inputs):
    return await http.post("/orchestrate", json={"intent": "memory.delete", "inputs": inputs})


async def test_forget_a_memory_found_by_query_after_a_preview(client, settings, tmp_path, unique):
    # Texts carry `unique`: the same request is the same job (and memory id) session-wide.
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="forget") as (http, _):
        python = await remember(http, f"I prefer Python for scripts ({unique})")
        rex = await remember(http, f"My dog is called Rex ({unique})")

        preview = await delete(http, query=f"I prefer Python for scripts ({unique})", k=1)
        assert preview.status_code == 200, preview.text
        result = preview.json()["result"]
        assert result["dry_run"] is True and result["deleted"] == []
        assert [m["id"] for m in result["matches"]] == [python]
        assert f'"ids":["{python}"]' in result["next_step"]
        assert (await search(http, "Python scripts", k=1))[0]["id"] == python  # a preview deletes nothing

        gone = (await delete(http, ids=[python], dry_run=False)).json()["result"]
        repeat = await delete(http, ids=[python], dry_run=False)  # the same job: its stored answer
        look = (await delete(http, ids=[python, rex])).json()["result"]
        left = await search(http, "Python scripts dog", k=5)

    assert gone["deleted"] == [python] and gone["matches"][0]["text"] == f"I prefer Python for scripts ({unique})"
    assert repeat.headers["Idempotent-Replayed"] == "true" and repeat.json()["result"] == gone
    assert look["missing"] == [python] and [m["id"] for m in look["matches"]] == [rex]
    assert [h["id"] for h in left] == [rex]


async def test_a_delete_by_query_never_deletes_and_bad_requests_name_the_field(api):
    by_query = await delete(api, query="everything about Python", dry_run=False)
    both = await delete(api, ids=["mem-1"], query="Python")
    neither = await delete(api, dry_run=True)
    bad_id = await delete(api, ids=["no spaces allowed"], dry_run=False)

    assert (by_query.status_code, by_query.json()["error"]["field"]) == (422, "inputs.dry_run")
    assert "send the ids it returned" in by_query.json()["error"]["message"]
    assert (both.status_code, both.json()["error"]["field"]) == (422, "inputs.query")
    assert (neither.status_code, neither.json()["error"]["field"]) == (422, "inputs.query")
    assert (bad_id.status_code, bad_id.json()["error"]["field"]) == (422, "inputs.ids")
