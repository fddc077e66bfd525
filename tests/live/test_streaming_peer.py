"""Against a real OpenAI-compatible peer that streams (`data:` chunks, the usage in the last one): a
watcher sees each chat step's text while the model writes it, the stored output is the whole answer,
and the tokens the peer reported are what the steps, agents, workflow, fleet and job add up to, priced
from the prices file."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.gpt.helpers import chat, create
from tests.live.sse import read_events
from tests.support.openai_server import Reply
from tests.support.stack import isolated_stack

ANSWER_A = " ".join(f"alpha{i}" for i in range(24))
ANSWER_B = " ".join(f"beta{i}" for i in range(24))
USAGE_A = {"prompt_tokens": 120, "completion_tokens": 24, "total_tokens": 144}
USAGE_B = {"prompt_tokens": 300, "completion_tokens": 48, "total_tokens": 348}


@pytest.fixture
def streaming_peer(llm_server, tmp_path):
    llm_server.reset()
    llm_server.on_model("model-a", Reply(content=ANSWER_A, chunk_delay_s=0.12, usage=USAGE_A))
    llm_server.on_model("model-b", Reply(content=ANSWER_B, chunk_delay_s=0.12, usage=USAGE_B))
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        textwrap.dedent(f"""
        agents:
          - {{name: Writer, category: Streamers, system_prompt: write, model: model-a, base_url: "{llm_server.base_url}"}}
          - {{name: Editor, category: Streamers, system_prompt: edit, model: model-b, base_url: "{llm_server.base_url}"}}
    """)
    )
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "models:\n  model-a: {input_per_1m: 1.0, output_per_1m: 2.0}\n  model-b: {input_per_1m: 10, output_per_1m: 20}\n"
    )
    yield {"agents_file": agents, "prices_file": prices}
    llm_server.reset()


def cost(usage: dict, input_per_1m: float, output_per_1m: float) -> float:
    return round((usage["prompt_tokens"] * input_per_1m + usage["completion_tokens"] * output_per_1m) / 1_000_000, 6)


async def test_chat_text_streams_from_the_peer_to_the_watcher_and_usage_adds_up(
    client, settings, llm_server, streaming_peer
):
    async with isolated_stack(client, settings, **streaming_peer) as (http, _):
        workflow_id = await create(http, {"name": "Streamed", "steps": [
            chat("draft", "Writer", "draft it"), chat("edit", "Editor", "edit: {{steps.draft.output}}", waitFor=["draft"]),
        ]})  # fmt: skip
        opened = asyncio.Event()
        path = f"/api/gpt-workflows/{workflow_id}/events"
        watching = asyncio.create_task(read_events(http, path, stop_after=lambda evs: opened.set()))
        await opened.wait()  # watching (its snapshot has arrived) before it runs
        assert (await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})).status_code == 202
        events = await watching
        # The Web UI's Current Details (read while its worker is up to answer): the outcome and its cost.
        meta = await client.get_workflow_handle(workflow_id).query(
            "__temporal_workflow_metadata", result_type=WorkflowMetadata
        )

    sent = [r.body for r in llm_server.requests]
    assert all(body["stream"] is True and body["stream_options"] == {"include_usage": True} for body in sent)

    done = events[-1].data
    outputs = {s["step_id"]: s["output"] for s in done["result"]["steps"]}
    assert outputs == {"draft": ANSWER_A, "edit": ANSWER_B}, "the stored output is the whole answer"
    for step_id, answer in outputs.items():
        pieces = [e for e in events if e.event == "output" and e.data["step_id"] == step_id]
        assert len(pieces) >= 2, f"{step_id}: text arrived while it was written ({len(pieces)} pieces)"
        told = "".join(p.data["text"] for p in pieces)
        assert answer.startswith(told) and 0 < len(told)
        finished = next(
            e for e in events if e.event == "step" and e.data["step_id"] == step_id and e.data["state"] == "succeeded"
        )
        assert all(p.key < finished.key for p in pieces), "partial text comes before the step's end"

    steps = {s["step_id"]: s for s in done["result"]["steps"]}
    expected = {
        "draft": USAGE_A | {"cost_usd": cost(USAGE_A, 1.0, 2.0), "estimated": False},
        "edit": USAGE_B | {"cost_usd": cost(USAGE_B, 10, 20), "estimated": False},
    }
    assert {sid: steps[sid]["usage"] for sid in steps} == expected
    assert done["result"]["usage_by_agent"] == {"Writer": expected["draft"], "Editor": expected["edit"]}
    total = done["result"]["usage"]
    assert total["total_tokens"] == 144 + 348 and total["prompt_tokens"] == 420 and total["completion_tokens"] == 72
    assert total["cost_usd"] == pytest.approx(expected["draft"]["cost_usd"] + expected["edit"]["cost_usd"])
    assert done["usage"] == total, "the job document carries the same total"
    usage_events = [e.data for e in events if e.event == "usage"]
    assert [u["step"] for u in usage_events] == [expected["draft"], expected["edit"]] and usage_events[-1][
        "total"
    ] == total
    assert meta.current_details.startswith("succeeded in ") and meta.current_details.endswith(
        f"(2 steps; 492 tokens, ${total['cost_usd']:.4f})"
    )


async def test_a_fleet_and_its_job_add_up_their_agents_usage(client, settings, llm_server, streaming_peer):
    async with isolated_stack(client, settings, **streaming_peer) as (http, _):
        resp = await http.post("/api/gpt-fleets/Streamers/orchestrate", params={"wait": 30}, json={"objective": "go"})
        assert resp.status_code == 200, resp.text
        fleet = resp.json()
        job = (await http.get(f"/jobs/{fleet['workflow_id']}")).json()
        orchestrated = await http.post(
            "/orchestrate",
            json={"intent": "fleet.orchestrate", "inputs": {"category": "Streamers", "objective": "again"}},
        )
        assert orchestrated.status_code == 200, orchestrated.text

    per_agent = {a["agent"]: a["usage"] for a in fleet["agents"]}
    assert per_agent["Writer"]["total_tokens"] == 144 and per_agent["Editor"]["total_tokens"] == 348
    assert fleet["usage"]["total_tokens"] == 492 and fleet["usage"]["cost_usd"] == pytest.approx(
        cost(USAGE_A, 1, 2) + cost(USAGE_B, 10, 20)
    )
    assert job["usage"] == fleet["usage"]
    assert orchestrated.json()["result"]["usage"]["total_tokens"] == 492
