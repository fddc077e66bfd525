"""Repeat a request and no side effect runs twice: Temporal's workflow-ID policies do the dedup."""

import asyncio

from temporalio import activity

from activities.memory import MemoryActivities
from intents.memory import MemoryWriteCall, MemoryWriteOutput
from tests.support.stack import isolated_stack


def counting_memory(settings, calls: list[str]):
    """The real memory activities, with memory.write wrapped to count its executions."""
    real = MemoryActivities(settings)

    @activity.defn(name="memory.write")
    async def write(inp: MemoryWriteCall) -> MemoryWriteOutput:
        calls.append(inp.text)
        await asyncio.sleep(0.3)  # long enough for repeats to arrive while the first is running
        return await real.write(inp)

    return [write, real.search]


async def test_repeating_a_write_runs_the_activity_once(client, settings, unique):
    calls: list[str] = []
    async with isolated_stack(client, settings, activities=counting_memory(settings, calls)) as (http, _):
        body = {"intent": "memory.write", "inputs": {"text": f"once {unique}"}}
        # Three at once (the first still running), then one after it finished.
        concurrent = await asyncio.gather(*(http.post("/orchestrate", json=body) for _ in range(3)))
        later = await http.post("/orchestrate", json=body)

    responses = [*concurrent, later]
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["job_id"] for r in responses}) == 1
    assert len({r.json()["result"]["id"] for r in responses}) == 1
    assert calls == [f"once {unique}"]


async def test_an_idempotency_key_makes_different_bodies_one_job(client, settings, unique):
    calls: list[str] = []
    async with isolated_stack(client, settings, activities=counting_memory(settings, calls)) as (http, _):
        headers = {"Idempotency-Key": f"chat-turn-{unique}"}
        body = {"intent": "memory.write", "inputs": {"text": f"keyed {unique}"}}
        first = await http.post("/orchestrate", json=body, headers=headers)
        again = await http.post("/orchestrate", json=body, headers=headers)
        clash = await http.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": "something else"}}, headers=headers
        )

    assert first.json()["job_id"] == again.json()["job_id"]
    assert calls == [f"keyed {unique}"]
    assert clash.status_code == 409
    assert clash.json()["error"]["type"] == "IdempotencyKeyReused"
    assert clash.json()["error"]["field"] == "Idempotency-Key"
