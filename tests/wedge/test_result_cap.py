"""An activity that answers with megabytes fails its step with a typed ResultTooLarge, long before
Temporal's 2 MB payload limit would fail it somewhere nobody can read; the run still ends."""

from temporalio import activity

from tests.gpt.helpers import steps_of, wait_for
from tests.support.stack import isolated_stack
from tests.wedge.corpus import defn, step


@activity.defn(name="memory.search")
async def a_search_that_returns_a_megabyte(inputs: dict) -> dict:
    return {"hits": [{"id": str(i), "text": "x" * 10_000} for i in range(100)]}


async def test_a_megabyte_result_fails_the_step_typed_and_the_run_ends(client, settings):
    async with isolated_stack(client, settings, activities=[a_search_that_returns_a_megabyte]) as (http, _):
        created = await http.post("/api/gpt-workflows/create", json=defn(step("s", "memory.search", {"query": "all"})))
        workflow_id = created.json()["workflow_id"]
        await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
        status = await wait_for(http, workflow_id, lambda s: s["state"] in ("succeeded", "failed"), timeout=30)
    searched = steps_of(status)["s"]
    assert status["state"] == "failed" and searched["error_type"] == "ResultTooLarge"
    assert "memory.search returned" in searched["error"]
