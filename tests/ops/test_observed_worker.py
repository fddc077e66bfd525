"""An operator runs the gateway and a worker process with WORKER_METRICS_ADDRESS, LOG_FORMAT=json and
OTEL_EXPORTER_OTLP_ENDPOINT set, sends one job, and then sees it three ways: Prometheus series from the
worker's Temporal SDK, JSON log lines naming the job, and one trace across both processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import telemetry
from gateway.app import create_app
from infra import tracing
from tests.support import slow_intent  # noqa: F401 - registers test.slow in this (gateway) process too
from tests.support.gateway import LiveServer, api_client


@pytest.fixture(scope="module")
async def observed_job(observed_worker, tmp_path_factory) -> AsyncIterator[str]:
    """One test.slow job through a gateway whose tracing comes from settings alone (no client handed in)."""
    marker = tmp_path_factory.mktemp("job") / "marker.log"
    async with LiveServer(create_app(observed_worker.settings)) as server, api_client(server.url) as http:
        resp = await http.post(
            "/orchestrate", json={"intent": "test.slow", "inputs": {"seconds": 0.3, "marker": str(marker)}}
        )
    assert resp.status_code == 200, resp.text
    yield resp.json()["job_id"]
    # Hand this process's gateway spans over while the collector still listens.
    await asyncio.to_thread(gateway_provider(observed_worker).force_flush)


def gateway_provider(observed_worker):
    return tracing.tracer_provider(observed_worker.settings, telemetry.SERVICE_NAME)


async def test_the_worker_serves_temporal_sdk_metrics_to_prometheus(observed_worker, observed_job):
    async with httpx.AsyncClient() as http:
        text = (await http.get(observed_worker.metrics_url)).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert all(name.startswith("temporal_") for name in families), sorted(families)
    # (the parser names a counter family without its `_total`)
    for series in (
        "temporal_activity_execution_latency_seconds",
        "temporal_workflow_completed",
        "temporal_worker_task_slots_available",
    ):
        assert series in families, f"{series} missing from {sorted(families)}"
    queues = {s.labels.get("task_queue") for s in families["temporal_workflow_completed"].samples}
    assert observed_worker.settings.task_queue in queues


async def test_worker_metric_names_follow_prometheus_conventions(observed_worker, observed_job):
    async with httpx.AsyncClient() as http:
        text = (await http.get(observed_worker.metrics_url)).text
    types = dict(line.split()[2:4] for line in text.splitlines() if line.startswith("# TYPE "))
    counters = [name for name, kind in types.items() if kind == "counter"]
    durations = [name for name, kind in types.items() if kind == "histogram" and "latency" in name]
    assert counters and durations, types
    assert [c for c in counters if not c.endswith("_total")] == []
    assert [d for d in durations if not d.endswith("_seconds")] == []
    # In seconds, not milliseconds: the job's one activity slept 0.3 s.
    [run_time] = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "temporal_activity_execution_latency_seconds_sum" and s.labels.get("activity_type") == "test.slow"
    ]
    assert 0.25 < run_time < 30


async def test_worker_logs_are_json_lines_that_name_the_job_and_intent(observed_worker, observed_job):
    lines = [json.loads(line) for line in observed_worker.log_file.read_text().splitlines() if line.strip()]
    activity_lines = [line for line in lines if line.get("activity") == "test.slow"]
    assert activity_lines, f"no activity log line among {lines}"
    line = activity_lines[0]
    assert line["message"].startswith("sleeping 0.3s")
    assert line["job_id"] == line["workflow_id"] == observed_job
    assert line["intent"] == "test.slow" and line["level"] == "INFO" and line["ts"]
    assert line["workflow_type"] == "IntentWorkflow" and line["attempt"] == 1


async def test_one_trace_runs_from_the_gateway_request_into_the_worker_process(observed_worker, observed_job):
    collector = observed_worker.collector
    await asyncio.to_thread(gateway_provider(observed_worker).force_flush)
    run_activity = await asyncio.to_thread(collector.wait_for, "RunActivity:test.slow")
    start_activity = await asyncio.to_thread(collector.wait_for, "StartActivity:test.slow")
    start_workflow = await asyncio.to_thread(collector.wait_for, "StartWorkflow:IntentWorkflow")
    request = await asyncio.to_thread(collector.wait_for, "POST /orchestrate")

    assert (request.service, start_workflow.service) == ("gpt-orchestrator-gateway", "gpt-orchestrator-gateway")
    assert (start_activity.service, run_activity.service) == ("gpt-orchestrator-worker", "gpt-orchestrator-worker")
    assert len({request.trace_id, start_workflow.trace_id, start_activity.trace_id, run_activity.trace_id}) == 1
    assert start_workflow.parent_id == request.span_id
    assert start_activity.parent_id == start_workflow.span_id
    assert run_activity.parent_id == start_activity.span_id
