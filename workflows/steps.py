"""How a workflow runs one unit of work as an activity: chats with agents and registered intents.

Shared by GptWorkflow (DAG steps) and FleetWorkflow (one chat per agent). Workflow-side code only:
deterministic, activities referenced by name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from intents import registry
    from intents.agents import CHAT_ACTIVITY, ChatRequest, ChatResult
    from intents.errors import ErrorType
    from intents.spec import RetrySpec
    from intents.tenancy import with_tenant
    from intents.text import truncate_utf8
    from workflows import search_attributes as sa
    from workflows.models import IntentRequest

from workflows.intent import IntentWorkflow, run_tenant

CHAT_TIMEOUT = timedelta(seconds=120)
CHAT_RETRY = RetrySpec(max_attempts=3, initial_interval_s=1)
# The chat activity heartbeats every second; a missed beat means the worker is gone, and cancellation
# (fail_fast, API or CLI cancel) is delivered on the next beat.
CHAT_HEARTBEAT = timedelta(seconds=10)
MEMORY_CONTEXT_HITS = 3
# Wait until the activity acknowledges cancellation, so "cancelled" means it really stopped.
CANCEL = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED


# Temporal keeps timeouts in whole milliseconds, and a timeout that rounds to zero is "no timeout", which
# an activity may not have (the workflow task would fail forever). A client may ask for 1e-9 s: that is 1 ms.
MIN_TIMEOUT = timedelta(milliseconds=1)


def _timeout(seconds: float | None, default: timedelta) -> timedelta:
    return max(timedelta(seconds=seconds), MIN_TIMEOUT) if seconds else default


def _retry(spec: RetrySpec | None, default: RetrySpec) -> RetryPolicy:
    return (spec or default).to_policy()


async def chat(
    agent: str,
    message: str,
    *,
    step_id: str | None = None,
    with_memory: bool = False,
    memory_tags: list[str] | None = None,
    timeout_s: float | None = None,
    retry: RetrySpec | None = None,
) -> ChatResult:
    context: list[str] = []
    if with_memory:
        search: dict[str, Any] = {"query": message[:2000], "k": MEMORY_CONTEXT_HITS}
        if memory_tags:
            search["tags"] = memory_tags[:32]  # only these memories (a query step's recall filter)
        found = await workflow.execute_activity(
            "memory.search",
            with_tenant(registry.for_workflow("memory.search"), search, run_tenant()),  # only this tenant's memories
            start_to_close_timeout=timedelta(seconds=20),
            retry_policy=RetryPolicy(maximum_attempts=3),
            cancellation_type=CANCEL,
            summary=truncate_utf8(f"memory for {agent}: {message}", 200),
        )
        context = [hit["text"] for hit in found.get("hits", [])]
    return await workflow.execute_activity(
        CHAT_ACTIVITY,
        ChatRequest(agent=agent, message=message, context=context, step_id=step_id, tenant=run_tenant()),
        result_type=ChatResult,
        start_to_close_timeout=_timeout(timeout_s, CHAT_TIMEOUT),
        heartbeat_timeout=CHAT_HEARTBEAT,
        retry_policy=_retry(retry, CHAT_RETRY),
        cancellation_type=CANCEL,
        summary=truncate_utf8(f"{agent}: {message}", 200),
    )


def _summary(spec, inputs: dict[str, Any]) -> str:
    try:
        return spec.summary_for(spec.input_model.model_validate(inputs))
    except Exception:  # invalid inputs fail in the child's activities, with a typed error; never here
        return spec.name


def validate_step_params(intent: str, params: dict[str, Any], *, where: str = "params") -> None:
    """A step's rendered params against its intent's input model. Invalid ones fail the step (a
    non-retryable ValidationError naming the field), never the workflow task."""
    spec = registry.for_workflow(intent)
    if not spec.check_step_params:
        return
    try:
        spec.input_model.model_validate(params)
    except ValidationError as exc:
        err: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
        field = where + "".join(f".{p}" for p in err.get("loc", ()))
        raise ApplicationError(
            f"{field}: {err.get('msg', 'invalid')} (after rendering templates)",
            {"field": field},
            type=ErrorType.VALIDATION,
            non_retryable=True,
        ) from None


def gated_job_id(intent: str, label: str) -> str | None:
    """The job id of an intent step that runs as its own gated job (None: a plain activity)."""
    if not registry.for_workflow(intent).preflight_activity:
        return None
    return f"{workflow.info().workflow_id}.{label}"


async def run_intent(
    intent: str,
    inputs: dict[str, Any],
    *,
    label: str,
    timeout_s: float | None = None,
    retry: RetrySpec | None = None,
    requested_by: str | None = None,
    activity_id: str | None = None,
) -> Any:
    """Run a registered intent's handler activity. Intents with an approval gate run as a child
    IntentWorkflow, so they keep their gate (approve it through /jobs/{child id}/approve); the child
    carries the search attributes of a top-level job. `activity_id` pins the activity's id (a handler
    that derives ids from it, memory.write, is then idempotent per caller-chosen key)."""
    spec = registry.for_workflow(intent)
    job_id = gated_job_id(intent, label)
    if job_id is not None:
        child = await workflow.execute_child_workflow(
            IntentWorkflow.run,
            IntentRequest(intent=intent, inputs=inputs, mode=spec.mode, requested_by=requested_by),
            id=job_id,
            static_summary=_summary(spec, inputs),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.INTENT, intent),
                    SearchAttributePair(sa.MODE, str(spec.mode)),
                    *sa.inherited(workflow.info().typed_search_attributes),  # same tenant and requester
                ]
            ),
        )
        return child.result
    # A gated step's own job adds its tenant itself (it inherits the Tenant attribute); here, at the call:
    call = with_tenant(spec, spec.activity_arg(inputs, f"{workflow.info().workflow_id}.{label}"), run_tenant())
    return await workflow.execute_activity(
        spec.activity,
        call,
        start_to_close_timeout=_timeout(timeout_s, spec.timeout),
        heartbeat_timeout=spec.heartbeat_timeout,
        retry_policy=_retry(retry, spec.retry),
        cancellation_type=CANCEL,
        summary=truncate_utf8(f"{label}: {spec.summary_for(spec.input_model.model_validate(inputs))}", 200),
        activity_id=activity_id,
    )
