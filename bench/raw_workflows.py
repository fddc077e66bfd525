"""Raw-temporalio baselines: plain workflows and one activity, in a module that imports nothing of
ours, so the sandbox's per-run cost for them is what any small SDK workflow pays.

The baselines use the SDK's defaults (sandboxed, like our workflows); the Unsandboxed twins show
what the sandbox itself costs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

LATENCY_S = 0.2


@activity.defn(name="bench.sleep")
async def raw_sleep(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "ok"


@workflow.defn(name="BenchRawFanOut")
class RawFanOut:
    @workflow.run
    async def run(self, n: int) -> int:
        results = await asyncio.gather(
            *(
                workflow.execute_activity(raw_sleep, LATENCY_S, start_to_close_timeout=timedelta(seconds=30))
                for _ in range(n)
            )
        )
        return len(results)


@workflow.defn(name="BenchRawFanOutUnsandboxed", sandboxed=False)
class RawFanOutUnsandboxed(RawFanOut):
    @workflow.run
    async def run(self, n: int) -> int:
        return await super().run(n)


@workflow.defn(name="BenchRawSequence")
class RawSequence:
    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(n):
            await workflow.execute_activity(raw_sleep, 0.0, start_to_close_timeout=timedelta(seconds=30))
        return n


@workflow.defn(name="BenchRawSequenceUnsandboxed", sandboxed=False)
class RawSequenceUnsandboxed(RawSequence):
    @workflow.run
    async def run(self, n: int) -> int:
        return await super().run(n)


@workflow.defn(name="BenchRawSlowJob")
class RawSlowJob:
    """One job of one slow activity (bench/tenant_fairness.py)."""

    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(raw_sleep, seconds, start_to_close_timeout=timedelta(seconds=60))


@workflow.defn(name="BenchRawOneActivity")
class RawOneActivity:
    """The raw default: one activity, as any SDK user writes it (what `execute_workflow` is measured on)."""

    @workflow.run
    async def run(self, activity_name: str) -> object:
        return await workflow.execute_activity(
            activity_name, {"text": "bench"}, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(name="BenchRawOneLocalActivity")
class RawOneLocalActivity:
    """The floor: the same step as a local activity."""

    @workflow.run
    async def run(self, activity_name: str) -> object:
        return await workflow.execute_local_activity(
            activity_name, {"text": "bench"}, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(name="BenchRawOneLocalActivityUnsandboxed", sandboxed=False)
class RawOneLocalActivityUnsandboxed(RawOneLocalActivity):
    """The floor without the sandbox's per-run cost: how our workers run workflows (worker/run.py
    workflow_runner), so the floor our platform really stands on."""

    @workflow.run
    async def run(self, activity_name: str) -> object:
        return await super().run(activity_name)


@activity.defn(name="bench.noop")
async def raw_noop(inp: dict) -> dict:
    return {"ok": True}
