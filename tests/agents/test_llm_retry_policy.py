"""The classification meets Temporal's retry engine: a rate-limited chat is retried to success,
a rejected key fails on the first attempt. Real dev server, real worker, real loopback LLM API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from intents.agents import CHAT_ACTIVITY, ChatRequest, ChatResult

from intents.errors import ErrorType
from tests.agents.conftest import LLM_KEY
from tests.support.openai_server import Reply


@workflow.defn(sandboxed=False)
class ChatOnceWorkflow:
    @workflow.run
    async def run(self, req: ChatRequest) -> ChatResult:
        return await workflow.execute_activity(
            CHAT_ACTIVITY,
            req,
            result_type=ChatResult,
            start_to_close_timeout=timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=4),
        )


@pytest.fixture
async def chat_worker(client, make_llm, llm_api):
    acts = make_llm(llm_base_url=llm_api.base_url, llm_api_key=LLM_KEY)
    queue = f"agents-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[ChatOnceWorkflow], activities=acts.activities()):
        yield queue


async def run_chat(client, queue: str, req: ChatRequest) -> ChatResult:
    return await client.execute_workflow(ChatOnceWorkflow.run, req, id=f"chat-{uuid.uuid4().hex[:8]}", task_queue=queue)


async def test_a_rate_limited_chat_is_retried_until_it_answers(client, chat_worker, llm_api):
    llm_api.script(Reply(429, headers={"Retry-After": "0.2"}), Reply(503), Reply(content="the report"))
    result = await run_chat(client, chat_worker, ChatRequest(agent="Shield Core", message="Summarise"))
    assert result.content == "the report"
    assert len(llm_api.requests) == 3


async def test_a_rejected_key_fails_on_the_first_attempt(client, chat_worker, llm_api):
    llm_api.script(Reply(401, error_message="bad key"))
    with pytest.raises(WorkflowFailureError) as caught:
        await run_chat(client, chat_worker, ChatRequest(agent="Shield Core", message="Summarise"))
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError) and cause.type == ErrorType.UPSTREAM_AUTH
    assert len(llm_api.requests) == 1
