"""schemathesis against the live gateway (real Temporal dev server, real worker): every answer is one the
published OpenAPI document promises, with the body it promises, and no 5xx but the documented peer ones.

The budget is fixed (CONTRACT_FUZZ_CASES, default 5,000 cases; half to POST /orchestrate, whose body is a
oneOf of every intent's own schema from GET /intents) with a fixed seed and a wall-clock cap
(CONTRACT_FUZZ_SECONDS). Every job the run starts must then end within 60 s: jobs waiting for a human
(approvals, created GPT workflows) are cancelled, which is one of their terminal paths.

Measured on the shared 2-core machine: 5,000 cases in 284 s (the whole test 298 s); 2,685 to /orchestrate,
178 to each other operation (half of those on job/workflow ids the run itself created), 0 failures.
"""

from __future__ import annotations

import asyncio
import os

from tests.support.contract import fuzz, per_intent_openapi, with_known_names
from tests.support.stack import isolated_stack
from worker.devserver import free_port
from workflows import search_attributes as sa

CASES = int(os.environ.get("CONTRACT_FUZZ_CASES", "5000"))
TIME_CAP_S = float(os.environ.get("CONTRACT_FUZZ_SECONDS", "360"))
SEED = int(os.environ.get("CONTRACT_FUZZ_SEED", "20261129"))
SETTLE_S = 60


async def _settle(client, task_queue: str, timeout: float) -> list[str]:
    """Cancel what waits for a human, then wait for every job on the queue to close. Returns the stragglers."""
    deadline = asyncio.get_running_loop().time() + timeout
    cancelled: set[str] = set()
    quiet = 0  # visibility lags a little: two empty listings in a row mean nothing runs
    while True:
        running = [wf async for wf in client.list_workflows(f"TaskQueue='{task_queue}' AND ExecutionStatus='Running'")]
        quiet = 0 if running else quiet + 1
        if quiet >= 2:
            return []
        if asyncio.get_running_loop().time() > deadline:
            return [f"{wf.id} ({wf.workflow_type})" for wf in running]
        for wf in running:
            awaiting = (await wf.memo()).get("state") == "created" or _approval_pending(wf)
            if awaiting and wf.id not in cancelled:
                cancelled.add(wf.id)
                await client.get_workflow_handle(wf.id).cancel()
        await asyncio.sleep(0.5)


async def _delete_schedules(client, task_queue: str) -> list[str]:
    """Schedules the run created (their runs go to its task queue) would keep starting jobs: delete them."""
    deleted = []
    async for entry in await client.list_schedules():
        handle = client.get_schedule_handle(entry.id)
        if (await handle.describe()).schedule.action.task_queue == task_queue:
            await handle.delete()
            deleted.append(entry.id)
    return deleted


def _approval_pending(wf) -> bool:
    return wf.typed_search_attributes.get(sa.APPROVAL) == "pending"


async def test_the_live_gateway_answers_only_what_its_openapi_documents(client, settings, tmp_path):
    closed_port = free_port()  # nothing listens: n8n flows fail fast with their typed error
    async with isolated_stack(
        client, settings, sync_timeout_s=0.25, n8n_base_url=f"http://127.0.0.1:{closed_port}/webhook", data_dir=tmp_path
    ) as (http, local):
        doc = (await http.get("/openapi.json")).json()
        intents = (await http.get("/intents")).json()["intents"]
        agents = [a["name"] for a in (await http.get("/api/gpt-agents")).json()["agents"]]
        fleets = [f["category"] for f in (await http.get("/api/gpt-fleets")).json()["fleets"]]
        variant = with_known_names(per_intent_openapi(doc, intents), agents, fleets)
        report = await asyncio.to_thread(
            fuzz,
            variant,
            str(http.base_url).rstrip("/"),
            "test-api-key",
            total=CASES,
            seed_value=SEED,
            time_cap_s=TIME_CAP_S,
        )
        print(report.summary())
        print("schedules created and deleted:", await _delete_schedules(client, local.task_queue))
        stragglers = await _settle(client, local.task_queue, SETTLE_S)
    assert report.cases >= min(CASES, 200), report.summary()
    assert not report.failures, report.summary()
    assert not stragglers, f"jobs still running {SETTLE_S} s after the run: {stragglers}"
