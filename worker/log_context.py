"""Tag worker logs with the job they belong to.

Every record logged while an activity runs (ours, httpx's, asyncssh's...) carries job_id, workflow_id,
run_id, activity, attempt and, for jobs started through the gateway, the intent, the tenant and who
requested it. Those live in the workflow's search attributes (`Intent`, `Tenant`, `RequestedBy`), which
activities cannot see, so the workflow side copies them into headers of each activity it schedules.
Headers are not compared on replay, so this never affects determinism.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity, workflow
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from infra.logs import log_context
from workflows import search_attributes as sa

INTENT_HEADER = "gpt-orchestrator-intent"
# log field -> (the workflow's search attribute, the activity header carrying it)
CARRIED = {
    "intent": (sa.INTENT, INTENT_HEADER),
    "tenant": (sa.TENANT, "gpt-orchestrator-tenant"),
    "requested_by": (sa.REQUESTED_BY, "gpt-orchestrator-requested-by"),
}


class JobLogContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        carried = {
            field: PayloadConverter.default.from_payload(header, str)
            for field, (_, name) in CARRIED.items()
            if (header := input.headers.get(name)) is not None
        }
        with log_context(
            job_id=info.workflow_id,
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity=info.activity_type,
            attempt=info.attempt,
            **carried,
        ):
            return await super().execute_activity(input)


class _WorkflowInbound(WorkflowInboundInterceptor):
    # workflow.logger records carry the workflow's IDs themselves (`temporal_workflow` extra).
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def _with_intent(self, headers):
        attributes = workflow.info().typed_search_attributes
        carried = {name: value for key, name in CARRIED.values() if (value := attributes.get(key)) is not None}
        return {**headers, **{name: PayloadConverter.default.to_payload(value) for name, value in carried.items()}}

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle:
        input.headers = self._with_intent(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle:
        input.headers = self._with_intent(input.headers)
        return super().start_local_activity(input)
