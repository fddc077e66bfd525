"""Live progress streams (issue 12), against raw temporalio in the same process (same server, same worker):

1. Step end -> stream: a 10-step sequential GPT workflow (200 ms offline chats) watched through
   GET /jobs/{id}/events by a real SSE client, through a standalone gateway (its own Temporal connection).
   For each step, the time from its activity's completion (ActivityTaskCompleted, stamped by the Temporal
   server) to the `step` succeeded event reaching the client. Baselines, raw temporalio clients on the
   same history: one long-polling it (fetch_history_events(wait_new_event=True)), the earliest any client
   can learn the activity completed; and one that also queries the workflow's `status` after each
   completed workflow task, the earliest any client can see the step recorded as succeeded (what a
   watch does, without the gateway and SSE).
2. Partial output cadence: one 6 s chat, the gaps between its `output` events at the client. Baseline: a
   raw client reading the activity's heartbeat details with describe() at the same 0.3 s period.
3. What N watchers cost Temporal: RPCs the gateway makes for one job watched by 1 and by 20 streams.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import ServiceClient

from bench.common import bench_platform, report, summarize
from gateway.app import create_app
from infra.temporal import connect
from intents.gpt_definitions import GptWorkflowDefinition
from tests.support.gateway import LiveServer
from worker.run import build_worker
from workflows.gpt import GptWorkflow, GptWorkflowInput

STEPS = 10
ROUNDS = 6
STEP_MS = 200
LONG_CHAT_MS = 6000
WATCHERS = 20


class CountingServiceClient(ServiceClient):
    """The same connection, counting every RPC by name."""

    def __init__(self, inner: ServiceClient):
        super().__init__(inner.config)
        self._inner, self.calls = inner, Counter()

    @property
    def worker_service_client(self):
        return self._inner.worker_service_client

    def update_rpc_metadata(self, metadata) -> None:
        self._inner.update_rpc_metadata(metadata)

    def update_api_key(self, api_key) -> None:
        self._inner.update_api_key(api_key)

    async def _rpc_call(self, rpc, req, resp_type, **kwargs):
        self.calls[rpc] += 1
        return await self._inner._rpc_call(rpc, req, resp_type, **kwargs)


def agents_yaml(path: Path) -> Path:
    path.write_text("agents:\n  - {name: Stepper, category: Steps, description: s, system_prompt: s}\n")
    return path


def sequence(n: int, name: str) -> GptWorkflowDefinition:
    steps = [{"stepId": "s0", "gpt": "Stepper", "action": "message", "params": {"message": "start"}}]
    for i in range(1, n):
        steps.append(
            {
                "stepId": f"s{i}",
                "gpt": "Stepper",
                "action": "message",
                "params": {"message": f"go {i}"},
                "waitFor": [f"s{i - 1}"],
            }
        )
    return GptWorkflowDefinition.model_validate({"name": name, "steps": steps})


async def watch(
    http: httpx.AsyncClient, job_id: str, seen: dict[str, list[tuple[str, float]]], ready: asyncio.Event | None = None
) -> None:
    """Read a job's stream to `done`, noting when each event arrived."""
    async with aconnect_sse(http, "GET", f"/jobs/{job_id}/events", timeout=httpx.Timeout(120)) as source:
        async for sse in source.aiter_sse():
            seen.setdefault(sse.event, []).append((sse.data, time.time()))
            if ready is not None and sse.event == "snapshot":
                ready.set()
            if sse.event == "done":
                return


async def raw_completions(client: Client, workflow_id: str) -> tuple[list[tuple[float, float]], list[float]]:
    """(server time of each ActivityTaskCompleted, when a raw long-polling client saw it), and when a raw
    client querying `status` after each completed workflow task first saw each step succeeded."""
    out, recorded = [], []
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            out.append((event.event_time.ToDatetime().timestamp(), time.time()))
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and len(recorded) < len(out):
            for _ in range(5):
                try:
                    status = await handle.query(GptWorkflow.status)
                    break
                except Exception:  # noqa: BLE001 - a query can time out; ask again, as a watch does
                    global QUERY_RETRIES
                    QUERY_RETRIES += 1
            done = sum(s.state == "succeeded" for s in status.steps)
            recorded += [time.time()] * max(done - len(recorded), 0)
    return out, recorded


QUERY_RETRIES = 0


async def step_latency(client: Client, gateway: str, task_queue: str) -> tuple[list[float], list[float], list[float]]:
    ours, raw, raw_query = [], [], []
    async with httpx.AsyncClient(base_url=gateway, headers={"Authorization": "Bearer bench-key"}) as http:
        for r in range(ROUNDS + 1):
            workflow_id = f"bench-stream-{uuid.uuid4().hex}"
            handle = await client.start_workflow(
                GptWorkflow.run,
                GptWorkflowInput(definition=sequence(STEPS, f"bench {r}")),
                id=workflow_id,
                task_queue=task_queue,
            )
            seen: dict[str, list[tuple[str, float]]] = {}
            ready = asyncio.Event()
            watching = asyncio.create_task(watch(http, workflow_id, seen, ready))
            raw_task = asyncio.create_task(raw_completions(client, workflow_id))
            await ready.wait()
            await handle.execute_update(GptWorkflow.execute)
            await asyncio.gather(watching, raw_task)
            if r == 0:
                continue  # warm-up
            completed, recorded = raw_task.result()
            ended = [t for data, t in seen["step"] if json.loads(data)["state"] == "succeeded"]
            assert len(ended) == len(completed) == len(recorded) == STEPS, (len(ended), len(completed), len(recorded))
            ours += [t - done for (done, _), t in zip(completed, ended, strict=True)]
            raw += [seen_at - done for done, seen_at in completed]
            raw_query += [t - done for (done, _), t in zip(completed, recorded, strict=True)]
    return raw, raw_query, ours


async def output_cadence(client: Client, gateway: str, task_queue: str) -> tuple[list[float], list[float]]:
    async with httpx.AsyncClient(base_url=gateway, headers={"Authorization": "Bearer bench-key"}) as http:
        workflow_id = f"bench-output-{uuid.uuid4().hex}"
        handle = await client.start_workflow(
            GptWorkflow.run,
            GptWorkflowInput(definition=sequence(1, "long chat"), execute=True),
            id=workflow_id,
            task_queue=task_queue,
        )
        seen: dict[str, list[tuple[str, float]]] = {}
        raw_seen: list[float] = []

        async def raw_poll() -> None:
            last = None
            while True:
                desc = await handle.describe()
                if desc.close_time is not None:
                    return
                for pending in desc.raw_description.pending_activities:
                    details = pending.heartbeat_details.SerializeToString()
                    if pending.heartbeat_details.payloads and details != last:
                        last = details
                        raw_seen.append(time.time())
                await asyncio.sleep(0.3)

        await asyncio.gather(watch(http, workflow_id, seen), raw_poll())
    ours = [t for _, t in seen.get("output", [])]
    return [b - a for a, b in zip(raw_seen, raw_seen[1:], strict=False)], [
        b - a for a, b in zip(ours, ours[1:], strict=False)
    ]


async def watcher_cost(client: Client, counting: CountingServiceClient, gateway: str, task_queue: str, n: int) -> int:
    async with httpx.AsyncClient(base_url=gateway, headers={"Authorization": "Bearer bench-key"}, timeout=120) as http:
        await asyncio.sleep(12)  # watches of earlier jobs have retired (LINGER_S)
        workflow_id = f"bench-cost-{uuid.uuid4().hex}"
        handle = await client.start_workflow(
            GptWorkflow.run, GptWorkflowInput(definition=sequence(5, "cost")), id=workflow_id, task_queue=task_queue
        )
        before = sum(counting.calls.values())
        events = [asyncio.Event() for _ in range(n)]
        tasks = [asyncio.create_task(watch(http, workflow_id, {}, ev)) for ev in events]
        await asyncio.gather(*(ev.wait() for ev in events))
        await handle.execute_update(GptWorkflow.execute)
        await asyncio.gather(*tasks)
        return sum(counting.calls.values()) - before


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        agents = agents_yaml(Path(tmp) / "agents.yaml")
        async with bench_platform(agents_file=agents, llm_offline_latency_ms=STEP_MS) as (settings, client):
            long_chat = settings.model_copy(
                update={"task_queue": "bench-long-chat", "llm_offline_latency_ms": LONG_CHAT_MS}
            )
            gateway_client = await connect(settings)
            counting = CountingServiceClient(gateway_client.service_client)
            config = gateway_client.config()
            config["service_client"] = counting
            async with (
                build_worker(client, settings),
                build_worker(client, long_chat),
                LiveServer(create_app(settings, client=Client(**config))) as gateway,
            ):
                raw, raw_query, ours = await step_latency(client, gateway.url, settings.task_queue)
                raw_gaps, output_gaps = await output_cadence(client, gateway.url, long_chat.task_queue)
                one = await watcher_cost(client, counting, gateway.url, settings.task_queue, 1)
                many = await watcher_cost(client, counting, gateway.url, settings.task_queue, WATCHERS)
    report(
        f"step end -> event at the client, {ROUNDS} x {STEPS}-step workflows ({STEP_MS} ms chats)",
        {
            "raw long-poll + status query sees it succeeded": summarize(raw_query),
            "raw long-poll sees ActivityTaskCompleted": summarize(raw),
            "SSE `step` succeeded event (gateway)": summarize(ours),
        },
        baseline="raw long-poll + status query sees it succeeded",
    )
    report(
        f"gap between partial outputs of one {LONG_CHAT_MS / 1000:g} s chat",
        {
            "raw describe() every 0.3 s, details changed": summarize(raw_gaps),
            "SSE `output` events": summarize(output_gaps),
        },
        baseline="raw describe() every 0.3 s, details changed",
    )
    print(f"\n   (raw status queries that timed out and were asked again: {QUERY_RETRIES})")
    print(f"\n== Temporal RPCs by the gateway for one 5-step job: 1 watcher {one}, {WATCHERS} watchers {many} "
          f"({many / max(one, 1):.2f}x for {WATCHERS}x the watchers)")  # fmt: skip


__all__ = ["run"]
