"""An operator scrapes the worker's metrics and sees what the models cost: tokens, calls and cost of LLM
calls as Prometheus counters by agent, model and tenant, next to the Temporal SDK's own series."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from infra.temporal import connect
from tests.gpt.helpers import chat, run
from tests.support.gateway import LiveServer, api_client
from worker.devserver import free_port
from worker.run import build_worker
from worker.runtime import worker_runtime


async def test_llm_tokens_cost_and_calls_are_counted_by_agent_model_and_tenant(settings, unique):
    address = f"127.0.0.1:{free_port()}"
    local = settings.model_copy(update={"task_queue": f"metered-{unique}", "worker_metrics_address": address})
    client = await connect(local, runtime=worker_runtime(local))
    async with (
        build_worker(client, local),
        LiveServer(create_app(local, client=client)) as server,
        api_client(server.url) as http,
    ):
        status = await run(
            http, {"name": "Counted", "steps": [chat("a", "Wanderweave", "hello"), chat("b", "Shield Core", "again")]}
        )
        async with httpx.AsyncClient() as scrape:
            text = (await scrape.get(f"http://{address}/metrics")).text

    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    tokens = [s for s in samples if s.name.startswith("llm_tokens") and s.labels.get("task_queue") == local.task_queue]
    by = {(s.labels["agent"], s.labels["kind"]): s.value for s in tokens}
    steps = {s["step_id"]: s["usage"] for s in status["steps"]}
    assert (
        by[("Wanderweave", "prompt")] == steps["a"]["prompt_tokens"]
        and by[("Wanderweave", "completion")] == steps["a"]["completion_tokens"]
    )
    assert by[("Shield Core", "completion")] == steps["b"]["completion_tokens"]
    assert {(s.labels["model"], s.labels["tenant"]) for s in tokens} == {("offline", "default")}
    calls = [s for s in samples if s.name.startswith("llm_calls") and s.labels.get("task_queue") == local.task_queue]
    assert sum(s.value for s in calls) == 2
    assert any(s.name.startswith("llm_cost_microdollars") for s in samples)
