"""The Temporal SDK runtime of a worker process: Prometheus metrics when WORKER_METRICS_ADDRESS is set,
and the SDK core's own log lines in JSON when the process logs JSON.

The SDK's core emits the metrics that matter for operating workers (`temporal_workflow_task_*`,
`temporal_activity_execution_*`, `temporal_*_schedule_to_start_latency_seconds`, slots, sticky cache)
and serves them itself on http://WORKER_METRICS_ADDRESS/metrics, named as Prometheus expects
(counters `_total`, durations in seconds). Its log lines (task failures,
nondeterminism) go straight to the console; in JSON they keep a log pipeline's one-object-per-line
contract. (Forwarding them into Python logging instead crashes the interpreter at exit in temporalio
1.35 once a line was forwarded, so we do not.) A runtime belongs to the client it is given to
(infra.temporal.connect(..., runtime=...)), and every worker on that client reports through it.
"""

from __future__ import annotations

import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, LoggingFormat, PrometheusConfig, Runtime, TelemetryConfig

from config import Settings
from infra import tracing
from infra.temporal import connect


def prometheus(bind_address: str) -> PrometheusConfig:
    """Prometheus naming conventions: counters end in `_total`, durations are float seconds named
    `_seconds` (`temporal_activity_execution_latency_seconds`), not integer milliseconds."""
    return PrometheusConfig(
        bind_address=bind_address, counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True
    )


def worker_runtime(settings: Settings, *, log_format: str = "text") -> Runtime | None:
    """None when neither metrics nor JSON core logs are wanted (= the SDK's default runtime)."""
    if not settings.worker_metrics_address and log_format != "json":
        return None
    core_logs = LoggingConfig(
        filter=LoggingConfig.default.filter, format=LoggingFormat.JSON if log_format == "json" else None
    )
    metrics = prometheus(settings.worker_metrics_address) if settings.worker_metrics_address else None
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logs, metrics=metrics))
    except Exception as exc:  # the core's bind error names neither the setting nor the fix
        raise RuntimeError(
            f"cannot serve worker metrics on {settings.worker_metrics_address!r} "
            "(WORKER_METRICS_ADDRESS must be a free host:port): " + str(exc)
        ) from exc


WORKER_SERVICE = "gpt-orchestrator-worker"


async def worker_client(settings: Settings, *, service: str = WORKER_SERVICE, log_format: str = "text") -> Client:
    """The client a worker process runs on: its runtime and, when configured, tracing
    (workers inherit the client's interceptors, so workflows and activities join the caller's trace)."""
    provider = tracing.tracer_provider(settings, service)
    runtime = worker_runtime(settings, log_format=log_format)
    return await connect(settings, runtime=runtime, interceptors=tracing.temporal_interceptors(provider))


def settle_heap() -> None:
    """Once a process has imported and built everything, before it serves: move what start-up made
    into the collector's permanent generation. Those objects live as long as the process, yet every
    full collection walked them again (~70 ms each in a gateway). Under load the collector took ~0.2 ms
    of the gateway's ~2.3 ms of CPU per accepted job (switching it off saved that much); frozen, the
    gateway spent 0.06–0.16 ms less per job in three same-run comparisons (bench/accept_costs.py).
    Objects made later are collected as before; nothing frozen is ever freed, which suits what start-up
    makes (modules, classes, the app, the registry)."""
    gc.collect()
    gc.freeze()


T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived process (`make dev`, a worker, `make bench`) on uvloop, the loop uvicorn already
    picks for the standalone gateway. In `make dev` the HTTP server, the Temporal client and the worker
    share one loop, and every sync request crosses it several times: on uvloop a sync memory.write's p50
    was 0.5–2.5 ms lower in each of three paired runs against asyncio's loop (README, Benchmarks); its
    CPU per accepted async job, ~3% lower."""
    return uvloop.run(main)
