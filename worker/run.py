"""Build and run workers."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from config import Settings
from intents import registry
from worker import registration
from worker.log_context import JobLogContext
from worker.payload_limits import ActivityResultCap
from worker.signals import wait_for_stop_signal

log = logging.getLogger("gpt_orchestrator.worker")

# Heartbeats reach Temporal at most this far apart (the SDK's default is 80% of the heartbeat timeout,
# up to 60 s): a chat's partial text must reach watchers about three times a second (activities/llm_stream.py).
HEARTBEAT_THROTTLE = timedelta(seconds=0.3)


def build_worker(
    client: Client,
    settings: Settings,
    *,
    task_queue: str | None = None,
    activities: Sequence | None = None,
    workflows: Sequence[type] | None = None,
    **kwargs,
) -> Worker:
    registry.load_extra_modules(settings.extra_intent_modules)
    if activities is None:
        activities = [*registration.build_activities(settings), *registration.extra_activities(settings)]
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(registration.workflow_types() if workflows is None else workflows),
        activities=list(activities),
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=8),
        interceptors=[JobLogContext(), ActivityResultCap(), *kwargs.pop("interceptors", ())],
        max_heartbeat_throttle_interval=kwargs.pop("max_heartbeat_throttle_interval", HEARTBEAT_THROTTLE),
        **kwargs,
    )


def build_zone_worker(client: Client, settings: Settings, zone: str, **kwargs) -> Worker:
    """A worker for one zone: only the activities that must run inside it, on a queue named after it."""
    interceptors = [JobLogContext(), ActivityResultCap(), *kwargs.pop("interceptors", ())]
    return Worker(client, task_queue=zone, activities=registration.zone_activities(settings), interceptors=interceptors, **kwargs)


async def run_until_stopped(worker: Worker) -> None:
    """Poll until SIGINT/SIGTERM, then shut down gracefully (running activities are told to stop)."""
    async with worker:
        log.info("worker polling task queue %s", worker.task_queue)
        await wait_for_stop_signal()
        log.info("stop signal received; shutting the worker down")
