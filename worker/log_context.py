"""Tag worker logs with the job they belong to.

Every record logged while an activity runs (ours, httpx's, asyncssh's...) carries job_id, workflow_id,
run_id, activity, attempt and, for intent jobs, the intent. The intent lives in the workflow's `Intent`
search attribute, which activities cannot see, so the workflow side copies it into a header of each
activity it schedules. Headers are not compared on replay, so this never affects determinism.
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


class JobLogContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        header = input.headers.get(INTENT_HEADER)
        intent = PayloadConverter.default.from_payload(header, str) if header else None
        with log_context(
            job_id=info.workflow_id,
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            intent=intent,
            activity=info.activity_type,
            attempt=info.attempt,
        ):
            return await super().execute_activity(input)


def _intent() -> str | None:
    return workflow.info().typed_search_attributes.get(sa.INTENT)


class _WorkflowInbound(WorkflowInboundInterceptor):
    # workflow.logger records carry the workflow's IDs themselves (`temporal_workflow` extra).
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def _with_intent(self, headers):
        intent = _intent()
        return {**headers, INTENT_HEADER: PayloadConverter.default.to_payload(intent)} if intent else headers

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle:
        input.headers = self._with_intent(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle:
        input.headers = self._with_intent(input.headers)
        return super().start_local_activity(input)
