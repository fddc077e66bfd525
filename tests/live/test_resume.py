"""Streams are read from Temporal, not from a gateway's memory: a client whose gateway is killed
reconnects with Last-Event-ID to a new gateway process and gets exactly the events after it (no
duplicate, no gap), a second gateway serves the very same events under the same ids, and a client that
hangs up inside a chat's text picks the text up where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.gpt.helpers import chat, create
from tests.live.sse import durable, read_events
from tests.support.gateway import api_client
from tests.support.processes import crash, start_gateway, stop, wait_until_serving
from worker.devserver import free_port
from worker.run import build_worker

STEPS = {
    "name": "Resumable",
    "steps": [
        chat("one", "Wanderweave", "first"),
        chat("two", "Shield Core", "second: {{steps.one.output}}", waitFor=["one"]),
        chat("three", "ShowBuilder GPT", "third", waitFor=["two"]),
    ],
}


@pytest.fixture
async def slow_worker(client, settings, unique) -> AsyncIterator:
    local = settings.model_copy(update={"task_queue": f"resume-{unique}", "llm_offline_latency_ms": 2500})
    async with build_worker(client, local):
        yield local


@contextlib.asynccontextmanager
async def gateway_process(settings, port: int | None = None):
    port = port or free_port()
    proc = start_gateway(settings, port)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(url, proc)
        yield url, proc
    finally:
        stop(proc)


async def started(http, definition) -> str:
    workflow_id = await create(http, definition)
    resp = await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
    assert resp.status_code == 202, resp.text
    return workflow_id


def ids(events) -> list[str]:
    return [e.id for e in events]


async def test_a_client_resumes_across_a_gateway_restart_with_no_duplicate_and_no_gap(slow_worker):
    port = free_port()
    async with gateway_process(slow_worker, port) as (url, proc), api_client(url) as http:
        workflow_id = await started(http, STEPS)
        # From the beginning ("0"), until the first step has finished; then the gateway dies.
        first = await read_events(http, f"/jobs/{workflow_id}/events", last_event_id="0",
                                  stop_after=lambda evs: any(e.event == "step" and e.data["state"] == "succeeded" for e in evs))  # fmt: skip
        crash(proc)  # SIGKILL: the gateway process is gone, and its memory with it
    last_id = durable(first)[-1].id
    async with gateway_process(slow_worker, port) as (url, _), api_client(url) as http:
        second = await read_events(http, f"/jobs/{workflow_id}/events", last_event_id=last_id)
        whole = await read_events(http, f"/jobs/{workflow_id}/events", last_event_id="0")

    assert second[0].event == "snapshot" and second[0].id == last_id, "the stream goes on from where the client was"
    assert second[-1].event == "done" and second[-1].data["status"] == "success"
    resumed = [*durable(first), *durable(second)]
    assert ids(resumed) == ids(durable(whole)), "no duplicate, no gap"
    assert [e.data for e in resumed] == [e.data for e in durable(whole)]
    assert [int(i) for i in ids(resumed)] == list(range(1, len(resumed) + 1))
    # The job is over: a reconnect after `done` is told there is nothing more.
    async with gateway_process(slow_worker) as (url, _), api_client(url) as http:
        after_done = await http.get(f"/jobs/{workflow_id}/events", headers={"Last-Event-ID": second[-1].id})
        assert after_done.status_code == 204


async def test_two_gateways_serve_the_same_stream_and_a_client_can_switch_between_them(slow_worker):
    async with gateway_process(slow_worker) as (url_a, _), gateway_process(slow_worker) as (url_b, _):
        async with api_client(url_a) as a, api_client(url_b) as b:
            workflow_id = await started(a, STEPS)
            from_a, from_b = await asyncio.gather(
                read_events(a, f"/api/gpt-workflows/{workflow_id}/events", last_event_id="0"),
                read_events(b, f"/api/gpt-workflows/{workflow_id}/events", last_event_id="0"),
            )
            assert [(e.id, e.event, e.data) for e in durable(from_a)] == [
                (e.id, e.event, e.data) for e in durable(from_b)
            ]
            assert from_a[-1].data == from_b[-1].data and from_a[-1].id == from_b[-1].id

            # Half on one, the rest on the other.
            other = await started(a, STEPS | {"name": "Switching"})
            head = await read_events(
                a, f"/jobs/{other}/events", last_event_id="0", stop_after=lambda evs: len(durable(evs)) >= 3
            )
            tail = await read_events(b, f"/jobs/{other}/events", last_event_id=durable(head)[-1].id)
            whole = await read_events(a, f"/jobs/{other}/events", last_event_id="0")
            assert ids([*durable(head), *durable(tail)]) == ids(durable(whole))


async def test_hanging_up_inside_a_chats_text_resumes_the_text_where_it_stopped(slow_worker):
    async with gateway_process(slow_worker) as (url, _), api_client(url) as http:
        workflow_id = await started(
            http, {"name": "One long answer", "steps": [chat("only", "Wanderweave", "tell me a long story")]}
        )
        first = await read_events(http, f"/jobs/{workflow_id}/events", stop_after=lambda evs: evs[-1].event == "output")
        cut = first[-1]
        assert "." in cut.id, "partial text has sub-ids under the last durable event"
        rest = await read_events(http, f"/jobs/{workflow_id}/events", last_event_id=cut.id)

    assert rest[0].id == cut.id
    outputs = [e for e in rest if e.event == "output"]
    if outputs:  # the step may also have finished before we were back
        assert outputs[0].data["offset"] == cut.data["chars"], "no repeated and no missing characters"
        assert all(e.key > cut.key for e in rest[1:])
    final = rest[-1].data["result"]["steps"][0]["output"]
    told = "".join(e.data["text"] for e in first if e.event == "output") + "".join(e.data["text"] for e in outputs)
    assert final.startswith(told) and told
