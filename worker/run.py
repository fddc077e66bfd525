"""Build and run workers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from fnmatch import fnmatchcase

from temporalio.client import Client
from temporalio.worker import PatchActivationInput, UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.memory_outbox import DRAINER
from config import Settings
from intents import registry
from worker import registration
from worker.log_context import JobLogContext
from worker.payload_limits import ActivityResultCap
from worker.signals import wait_for_stop_signal
from workflows.intent import LOCAL_ACTIVITY_PATCH

log = logging.getLogger("gpt_orchestrator.worker")

# Heartbeats reach Temporal at most this far apart (the SDK's default is 80% of the heartbeat timeout,
# up to 60 s): a chat's partial text must reach watchers about three times a second (activities/llm_stream.py).
HEARTBEAT_THROTTLE = timedelta(seconds=0.3)
FLUSH_ON_STOP_S = 10.0


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """How this worker runs workflow code: unsandboxed unless WORKFLOW_SANDBOX is on.

    The SDK's sandbox re-imports (and, with no bytecode cache, recompiles) each workflow's module for
    every run, and hops into the sandbox several times per payload it encodes (temporalio 1.35): ~6 ms
    of CPU per run plus ~0.2 ms per activity scheduled; on this 2-core machine that is as much as a whole
    memory.write on the fast path, and ~0.1 s for a fleet of 100 agents. Passing our packages through
    the sandbox removes the first cost but not the second, and a passed-through module is not checked.

    What the sandbox checks, determinism, is checked where it is cheap: the test suite's workers
    (tests/conftest.py sets WORKFLOW_SANDBOX) and the golden-history replay (tests/histories) run every
    workflow under the SDK's default, fully restricted sandbox, so a stray datetime.now() or random() in
    workflow code fails `make test`. Our workflow modules keep no mutable module state that one run could
    leak to another (constants only; the intent registry is filled at start-up).
    """
    return SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


def patch_activation(settings: Settings) -> Callable[[PatchActivationInput], bool]:
    """Which new runs take the fast path (IntentSpec.local_activity) on this worker: LOCAL_ACTIVITY_INTENTS.

    Called by the SDK only for a patch a run meets for the first time, never on replay (the history's
    marker decides there), so changing the setting never breaks a run in flight. Every other patch is
    activated, as without a callback."""
    patterns = settings.local_activity_intents

    def activate(patch: PatchActivationInput) -> bool:
        if patterns is None or not patch.patch_id.startswith(LOCAL_ACTIVITY_PATCH):
            return True
        intent = patch.patch_id.removeprefix(LOCAL_ACTIVITY_PATCH)
        return any(fnmatchcase(intent, pattern) for pattern in patterns)

    return activate


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
        patch_activation_callback=kwargs.pop("patch_activation_callback", None) or patch_activation(settings),
        workflow_runner=kwargs.pop("workflow_runner", None) or workflow_runner(settings),
        **kwargs,
    )


def build_zone_worker(client: Client, settings: Settings, zone: str, **kwargs) -> Worker:
    """A worker for one zone: only the activities that must run inside it, on a queue named after it."""
    interceptors = [JobLogContext(), ActivityResultCap(), *kwargs.pop("interceptors", ())]
    return Worker(
        client, task_queue=zone, activities=registration.zone_activities(settings), interceptors=interceptors, **kwargs
    )


async def run_until_stopped(worker: Worker) -> None:
    """Poll until SIGINT/SIGTERM, then shut down gracefully (running activities are told to stop)."""
    async with worker:
        log.info("worker polling task queue %s", worker.task_queue)
        await wait_for_stop_signal()
        log.info("stop signal received; shutting the worker down")
    await flush_memory_journals()


async def flush_memory_journals() -> None:
    """On a graceful stop: answered memory writes still journaled go into Chroma now (bounded); what is
    left drains on the next start, so a stop never loses one either way."""
    if left := await asyncio.to_thread(DRAINER.flush_all, FLUSH_ON_STOP_S):
        log.warning("%d memory writes are still journaled; the next worker start stores them", left)
