"""Issue 3 benchmarks, against raw temporalio in the same process (same server):

1. A fleet of 100 agents, each answering after 200 ms (offline provider) vs a raw workflow fanning out
   100 x 200 ms activities.
2. A sequential 10-step GPT workflow (instant offline answers) vs a raw workflow of 10 sequential no-op
   activities: per-step overhead.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.worker import Worker

from bench.common import bench_platform, report, summarize
from intents.fleets import FleetRequest
from worker.run import build_worker
from workflows.dag import GptWorkflowDefinition
from workflows.fleet import FleetWorkflow
from workflows.gpt import GptWorkflow, GptWorkflowInput

FLEET_SIZE = 100
LATENCY_S = 0.2
STEPS = 10
ROUNDS = 8


@activity.defn(name="bench.sleep")
async def raw_sleep(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "ok"


@workflow.defn(name="BenchRawFanOut", sandboxed=False)
class RawFanOut:
    @workflow.run
    async def run(self, n: int) -> int:
        results = await asyncio.gather(
            *(workflow.execute_activity(raw_sleep, LATENCY_S, start_to_close_timeout=timedelta(seconds=30)) for _ in range(n))
        )
        return len(results)


@workflow.defn(name="BenchRawSequence", sandboxed=False)
class RawSequence:
    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(n):
            await workflow.execute_activity(raw_sleep, 0.0, start_to_close_timeout=timedelta(seconds=30))
        return n


def agents_yaml(path: Path) -> Path:
    lines = ["agents:"]
    lines += [f"  - {{name: Bench Agent {i:03d}, category: Bench, description: b, system_prompt: b}}" for i in range(FLEET_SIZE)]
    lines += ["  - {name: Stepper, category: Steps, description: s, system_prompt: s}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def sequential_definition() -> GptWorkflowDefinition:
    steps = [{"stepId": "s0", "gpt": "Stepper", "action": "message", "params": {"message": "start"}}]
    for i in range(1, STEPS):
        steps.append({"stepId": f"s{i}", "gpt": "Stepper", "action": "message", "params": {"message": f"continue {i}"}, "waitFor": [f"s{i - 1}"]})
    return GptWorkflowDefinition.model_validate({"name": "bench sequential", "parallel": False, "steps": steps})


async def timed(coro) -> float:
    t0 = time.perf_counter()
    await coro
    return time.perf_counter() - t0


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        agents = agents_yaml(Path(tmp) / "agents.yaml")
        async with bench_platform(agents_file=agents, llm_offline_latency_ms=int(LATENCY_S * 1000)) as (settings, client):
            instant = settings.model_copy(update={"task_queue": "bench-instant", "llm_offline_latency_ms": 0})
            raw_queue = "bench-raw"
            async with build_worker(client, settings), build_worker(client, instant), Worker(
                client, task_queue=raw_queue, workflows=[RawFanOut, RawSequence], activities=[raw_sleep]
            ):
                def raw_fan():
                    return client.execute_workflow(RawFanOut.run, FLEET_SIZE, id=f"raw-fan-{uuid.uuid4()}", task_queue=raw_queue)

                def fleet():
                    req = FleetRequest(category="Bench", objective=f"bench {uuid.uuid4()}", timeout_s=60)
                    return client.execute_workflow(FleetWorkflow.run, req, id=f"fleet-{uuid.uuid4()}", task_queue=settings.task_queue)

                def raw_seq():
                    return client.execute_workflow(RawSequence.run, STEPS, id=f"raw-seq-{uuid.uuid4()}", task_queue=raw_queue)

                def gpt_seq():
                    inp = GptWorkflowInput(definition=sequential_definition(), execute=True)
                    return client.execute_workflow(GptWorkflow.run, inp, id=f"gpt-seq-{uuid.uuid4()}", task_queue=instant.task_queue)

                fan = {"raw fan-out 100 x 200 ms activities": raw_fan, "fleet of 100 agents x 200 ms": fleet}
                seq = {"raw 10 sequential no-op activities": raw_seq, "GPT workflow, 10 sequential steps": gpt_seq}
                # Warm up until dispatch latency settles: a fresh gRPC connection answers faster for its
                # first second or so, then every variant (raw included) pays the steady per-dispatch cost.
                for _ in range(3):
                    for fn in [*fan.values(), *seq.values()]:
                        await fn()
                samples: dict[str, list[float]] = {name: [] for name in [*fan, *seq]}
                for _ in range(ROUNDS):
                    for name, fn in [*fan.items(), *seq.items()]:
                        samples[name].append(await timed(fn()))
        report(f"fan-out wall time, {ROUNDS} runs each", {n: summarize(samples[n]) for n in fan}, baseline=next(iter(fan)))
        per_step = {n: summarize([s / STEPS for s in samples[n]]) for n in seq}
        report(f"per-step time of a {STEPS}-step sequence, {ROUNDS} runs each", per_step, baseline=next(iter(seq)))
