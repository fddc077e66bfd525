"""A user creates a three-step GPT workflow, opens its event stream with a real SSE client, executes it,
and watches every step start, write its text and finish, with the tokens it used, until the final
document arrives and the stream closes."""

from __future__ import annotations

import asyncio

from tests.gpt.helpers import chat, create
from tests.live.sse import durable, read_events, steps

THREE_STEPS = {
    "name": "Watched trip",
    "steps": [
        chat("plan", "Wanderweave", "Plan three days in Lisbon"),
        chat("check", "Shield Core", "Check the plan: {{steps.plan.output}}", waitFor=["plan"]),
        chat("post", "ShowBuilder GPT", "Write it up", waitFor=["check"]),
    ],
}


async def test_a_client_reads_a_three_step_workflow_live(slow_stack):
    http, _ = slow_stack
    workflow_id = await create(http, THREE_STEPS)

    async def execute_once_watching() -> None:
        await asyncio.sleep(0.5)
        resp = await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
        assert resp.status_code == 202, resp.text

    executing = asyncio.create_task(execute_once_watching())
    events = await read_events(http, f"/api/gpt-workflows/{workflow_id}/events")
    await executing

    snapshot, done = events[0], events[-1]
    # The watch starts before execute is sent; on a loaded machine the snapshot may already see it running.
    assert snapshot.event == "snapshot" and snapshot.data["progress"]["state"] in ("created", "running")
    assert steps(events) == [
        ("plan", "started"), ("plan", "succeeded"),
        ("check", "started"), ("check", "succeeded"),
        ("post", "started"), ("post", "succeeded"),
    ]  # fmt: skip
    # Ids increase within the job; the log's own events are numbered 1, 2, 3, ...
    keys = [e.key for e in events[1:]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    numbers = [float(e.id) for e in events[1:]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), "read as numbers too"
    assert [e.key[0] for e in durable(events)] == list(range(1, len(durable(events)) + 1))

    # Each chat's text arrived while it was written, in pieces that add up to what it stored.
    final = {s["step_id"]: s["output"] for s in done.data["result"]["steps"]}
    for step_id in ("plan", "check", "post"):
        pieces = [e.data for e in events if e.event == "output" and e.data["step_id"] == step_id]
        assert len(pieces) >= 2, f"{step_id}: {pieces}"
        written = "".join(p["text"] for p in pieces)
        assert final[step_id].startswith(written) and written, (step_id, written)
        assert [p["offset"] for p in pieces] == sorted(p["offset"] for p in pieces)

    usage = [e.data for e in events if e.event == "usage"]
    assert [u["step_id"] for u in usage] == ["plan", "check", "post"]
    assert usage[-1]["total"]["total_tokens"] == sum(u["step"]["total_tokens"] for u in usage) > 0

    assert done.event == "done" and done.data["status"] == "success" and done.data["job_id"] == workflow_id
    assert done.data["usage"]["total_tokens"] == usage[-1]["total"]["total_tokens"]
    assert done.key[0] == durable(events)[-1].key[0] + 1
