"""`remember: true`: a GPT workflow's step outputs (and a fleet's answers) become memories that
memory.search finds, tagged with where they came from; writing them again changes nothing; and a later
`query` step can recall only one workflow's memories."""

from __future__ import annotations

from tests.gpt.helpers import chat, run


async def search(api, query: str, tags: list[str] | None = None, k: int = 10) -> list[dict]:
    inputs = {"query": query, "k": k} | ({"tags": tags} if tags else {})
    resp = await api.post("/orchestrate", json={"intent": "memory.search", "inputs": inputs})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["hits"]


async def test_remembered_step_outputs_are_found_by_memory_search(api, unique):
    definition = {
        "name": f"Remembering {unique}",
        "remember": True,
        "steps": [
            chat("idea", "Wanderweave", f"Ideas for a weekend in Porto {unique}"),
            chat("check", "Shield Core", f"Check the safety of it {unique}", waitFor=["idea"], remember=False),
            {
                "stepId": "note",
                "action": "memory.write",
                "params": {"text": f"a plain intent step {unique}"},
                "waitFor": ["idea"],
            },
        ],
    }
    status = await run(api, definition)
    workflow_id = status["workflow_id"]
    steps = {s["step_id"]: s for s in status["steps"]}
    assert steps["idea"]["memory_id"] and steps["check"].get("memory_id") is None

    hits = await search(api, f"weekend in Porto {unique}", tags=[f"gpt-workflow:{workflow_id}"])
    [idea] = [h for h in hits if "step:idea" in h["tags"]]
    assert idea["text"] == steps["idea"]["output"] and idea["id"] == steps["idea"]["memory_id"]
    assert set(idea["tags"]) == {f"gpt-workflow:{workflow_id}", "step:idea", "agent:Wanderweave"}
    assert not [h for h in hits if "step:check" in h["tags"]], "a step may opt out"
    assert [h for h in hits if "step:note" in h["tags"]], "intent steps are remembered too (their output as JSON)"

    # Recall restricted to that workflow: a query step in another workflow sees only its memories.
    decoy = await api.post(
        "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"Porto {unique} decoy from elsewhere"}}
    )
    assert decoy.status_code == 200, decoy.text
    recall = await run(api, {"name": f"Recalling {unique}", "steps": [
        {"stepId": "ask", "gpt": "Wanderweave", "action": "query", "params": {"query": f"Porto {unique}", "recall_from": workflow_id}},
    ]})  # fmt: skip
    answer = recall["steps"][0]["output"]
    context = answer[answer.index("Context used:") :]
    assert "on: Ideas for a weekend" in context and "decoy" not in context


async def test_a_fleet_remembers_each_answer_once(api, unique):
    body = {"objective": f"Slogans for the launch {unique}", "remember": True}
    first = await api.post("/api/gpt-fleets/Creative/orchestrate", json=body, params={"wait": 30})
    assert first.status_code == 200, first.text
    fleet = first.json()
    tag = f"fleet:{fleet['workflow_id']}"
    hits = await search(api, f"Slogans for the launch {unique}", tags=[tag], k=50)
    assert {h["id"] for h in hits} == {a["memory_id"] for a in fleet["agents"]}
    assert {next(t for t in h["tags"] if t.startswith("agent:")) for h in hits} == {
        f"agent:{a['agent']}" for a in fleet["agents"]
    }

    # The same request again is the same job: nothing is written twice.
    again = await api.post("/api/gpt-fleets/Creative/orchestrate", json=body, params={"wait": 30})
    assert again.json()["workflow_id"] == fleet["workflow_id"]
    assert len(await search(api, f"Slogans for the launch {unique}", tags=[tag], k=50)) == len(hits)
