"""Short intents take the fast path: "remember that I prefer Python" is one workflow task.

In `make dev` the gateway shares its worker's client, so the start is eager (Temporal hands the first
workflow task straight back to this process) and memory.write's handler runs as a local activity inside
that task: no task is dispatched through Temporal's matching at all. The history still says what ran,
with the same summary the Web UI shows. LOCAL_ACTIVITY_INTENTS is the way back, per worker.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.memory import memory_id
from gateway.app import create_app
from intents.spec import IntentSpec, Mode
from tests.support.gateway import LiveServer, api_client
from worker.run import build_worker


@contextlib.asynccontextmanager
async def dev_like_stack(client, settings, tmp_path, **overrides):
    """Worker and gateway in one process on one client, with eager start: what `make dev` runs."""
    local = settings.model_copy(
        update={"task_queue": f"fast-{uuid.uuid4().hex[:8]}", "data_dir": tmp_path, **overrides}
    )
    async with build_worker(client, local), LiveServer(create_app(local, client=client, eager_start=True)) as server:
        async with api_client(server.url) as http:
            yield http


async def job_history(client, http, intent: str, inputs: dict):
    resp = await http.post("/orchestrate", json={"intent": intent, "inputs": inputs})
    assert resp.status_code == 200, resp.text
    job = resp.json()
    return job, (await client.get_workflow_handle(job["job_id"]).fetch_history()).events


def of_type(events, kind: str):
    return [e for e in events if e.event_type == getattr(EventType, f"EVENT_TYPE_{kind}")]


def summary(event) -> str:
    return pydantic_data_converter.payload_converter.from_payload(event.user_metadata.summary, str)


async def test_a_memory_write_starts_eagerly_and_runs_in_one_workflow_task(client, settings, tmp_path):
    async with dev_like_stack(client, settings, tmp_path) as http:
        job, events = await job_history(
            client, http, "memory.write", {"text": f"I prefer Python ({uuid.uuid4().hex[:6]})"}
        )

    started = events[0].workflow_execution_started_event_attributes
    assert started.eager_execution_accepted, "the start was not eager"
    assert len(of_type(events, "WORKFLOW_TASK_COMPLETED")) == 1
    assert of_type(events, "ACTIVITY_TASK_SCHEDULED") == []
    patch, local = (e.marker_recorded_event_attributes.marker_name for e in of_type(events, "MARKER_RECORDED"))
    assert (patch, local) == ("core_patch", "core_local_activity")
    # The Web UI shows the local activity's summary, as it showed the activity's.
    assert summary(of_type(events, "MARKER_RECORDED")[1]).startswith('memory.write: "I prefer Python (')
    # Keyed by job: a re-run of the local activity (its workflow task failed) upserts the same memory.
    assert job["result"]["id"] == memory_id(job["job_id"], "1")


async def test_local_activity_intents_is_the_way_back_per_worker(client, settings, tmp_path):
    async with dev_like_stack(client, settings, tmp_path, local_activity_intents=["memory.search"]) as http:
        write, write_events = await job_history(
            client, http, "memory.write", {"text": f"Deploys on Thursdays {uuid.uuid4().hex[:6]}"}
        )
        _, search_events = await job_history(client, http, "memory.search", {"query": "When are deploys?"})

    # memory.write is a normal activity again, with its summary, and still keyed by job.
    [scheduled] = of_type(write_events, "ACTIVITY_TASK_SCHEDULED")
    assert summary(scheduled).startswith('memory.write: "Deploys on Thursdays')
    assert of_type(write_events, "MARKER_RECORDED") == []
    assert write["result"]["id"] == memory_id(write["job_id"], "1")
    # memory.search, still listed, keeps the fast path.
    assert of_type(search_events, "ACTIVITY_TASK_SCHEDULED") == []
    assert len(of_type(search_events, "MARKER_RECORDED")) == 2


def test_only_a_quick_local_handler_can_be_declared_for_the_fast_path():
    class Inputs(BaseModel):
        text: str

    with pytest.raises(ValueError, match="local_activity needs a handler activity that runs without heartbeats"):
        IntentSpec(
            name="demo.stream", mode=Mode.WORKER, description="d", input_model=Inputs, activity="demo.stream",
            read_only=True, local_activity=True, heartbeat_timeout=timedelta(seconds=10),
        )  # fmt: skip
