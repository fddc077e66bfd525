"""agent.chat over real HTTP to a loopback OpenAI-compatible API: what is sent, and how each failure
is classified for the retry policy (retryable vs a typed non-retryable error)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from config.agents import Agent, AgentRegistry
from intents.agents import ChatRequest
from intents.errors import ErrorType
from tests.agents.conftest import LLM_KEY
from tests.support.openai_server import OpenAIServer, Reply


async def chat_error(env, acts, **req) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await env.run(acts.chat, ChatRequest(**req))
    return caught.value


async def test_an_agent_answers_through_the_api_with_its_prompt_and_context(activity_env, online, llm_api):
    req = ChatRequest(agent="wanderweave", message="Paris in spring?", context=["I prefer museums"], step_id="content")
    result = await activity_env.run(online.chat, req)

    assert (result.agent, result.provider, result.offline) == ("Wanderweave", "openai", False)
    assert result.content == "echo: Paris in spring?"
    assert result.model == "test-model" and result.usage.completion_tokens == 4
    [sent] = llm_api.requests
    assert sent.headers["authorization"] == f"Bearer {LLM_KEY}"
    assert sent.model == "test-model"
    roles = [m["role"] for m in sent.messages]
    assert roles == ["system", "system", "user"]
    assert sent.messages[0]["content"].startswith("You are Wanderweave")
    assert "- I prefer museums" in sent.messages[1]["content"]
    assert activity_env.heartbeats == [], "a call shorter than the heartbeat interval needs no beat"


async def test_an_agent_can_use_its_own_model_and_endpoint(activity_env, make_llm, llm_api):
    with OpenAIServer() as local_llm:  # e.g. an Ollama next to the worker, no key needed
        roster = AgentRegistry(
            [
                Agent(name="Local", category="Lab", system_prompt="p", model="llama3", base_url=local_llm.base_url),
                Agent(name="Default", category="Lab", system_prompt="p"),
            ]
        )
        acts = make_llm(roster, llm_base_url=llm_api.base_url, llm_api_key=LLM_KEY)
        local = await activity_env.run(acts.chat, ChatRequest(agent="local", message="hi"))
        default = await activity_env.run(acts.chat, ChatRequest(agent="default", message="hi"))
    assert (local.model, default.model) == ("llama3", "test-model")
    assert "authorization" not in local_llm.requests[0].headers, "the global key never goes to another URL"
    assert llm_api.requests[0].headers["authorization"] == f"Bearer {LLM_KEY}"


async def test_rate_limits_are_retryable_and_honour_retry_after(activity_env, online, llm_api):
    llm_api.script(Reply(429, headers={"Retry-After": "2"}), Reply(content="finally"))
    err = await chat_error(activity_env, online, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_UNAVAILABLE, False)
    assert err.next_retry_delay == timedelta(seconds=2)
    assert "429" in err.message
    # The retry policy's next attempt succeeds.
    assert (await activity_env.run(online.chat, ChatRequest(agent="Shield Core", message="x"))).content == "finally"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(activity_env, online, llm_api, status):
    llm_api.script(Reply(status))
    err = await chat_error(activity_env, online, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable, err.next_retry_delay) == (ErrorType.UPSTREAM_UNAVAILABLE, False, None)


async def test_exhausted_quota_is_not_worth_retrying(activity_env, online, llm_api):
    llm_api.script(Reply(429, error_code="insufficient_quota", error_message="You exceeded your current quota"))
    err = await chat_error(activity_env, online, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_BAD_REQUEST, True)
    assert "quota" in err.message


async def test_a_bad_request_fails_at_once_with_the_apis_reason(activity_env, online, llm_api):
    llm_api.script(Reply(400, error_message="max_tokens is too large"))
    err = await chat_error(activity_env, online, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_BAD_REQUEST, True)
    assert "answered 400: max_tokens is too large" in err.message


async def test_a_wrong_key_is_an_auth_error_that_never_repeats_the_key(activity_env, make_llm, llm_api):
    acts = make_llm(llm_base_url=llm_api.base_url, llm_api_key="sk-wrong-key-0000")
    err = await chat_error(activity_env, acts, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_AUTH, True)
    assert "401" in err.message and "Incorrect API key provided: [redacted]" in err.message
    assert "sk-wrong-key-0000" not in err.message


async def test_forbidden_is_an_auth_error_too(activity_env, online, llm_api):
    llm_api.script(Reply(403))
    err = await chat_error(activity_env, online, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_AUTH, True)


async def test_an_unknown_model_or_endpoint_is_not_found(activity_env, make_llm, llm_api):
    roster = AgentRegistry([Agent(name="Ghost", category="Lab", system_prompt="p", model="no-such-model")])
    acts = make_llm(roster, llm_base_url=llm_api.base_url, llm_api_key=LLM_KEY)
    llm_api.on_model("no-such-model", Reply(404, error_message="The model `no-such-model` does not exist"))
    err = await chat_error(activity_env, acts, agent="Ghost", message="hi")
    assert (err.type, err.non_retryable) == (ErrorType.NOT_FOUND, True)
    assert "no-such-model" in err.message

    wrong_path = make_llm(llm_base_url=llm_api.base_url.removesuffix("/v1"), llm_api_key=LLM_KEY)
    err = await chat_error(activity_env, wrong_path, agent="Shield Core", message="hi")
    assert (err.type, err.non_retryable) == (ErrorType.NOT_FOUND, True)
    assert "base URL" in err.message


async def test_a_reply_that_is_not_chat_completions_json_is_a_protocol_error(activity_env, online, llm_api):
    llm_api.script(Reply(raw_body="<html>gateway page</html>"), Reply(raw_body='{"answer": "hi"}'))
    for _ in range(2):
        err = await chat_error(activity_env, online, agent="Shield Core", message="report")
        assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_PROTOCOL, True)


async def test_an_api_that_is_down_is_retryable(activity_env, make_llm):
    acts = make_llm(llm_base_url="http://127.0.0.1:9/v1")  # discard port: nothing listens
    err = await chat_error(activity_env, acts, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_UNAVAILABLE, False)
    assert "LLM API at 127.0.0.1:9 unreachable: ConnectError" in err.message


async def test_a_slow_api_times_out_retryably(activity_env, make_llm, llm_api):
    acts = make_llm(llm_base_url=llm_api.base_url, llm_api_key=LLM_KEY, llm_timeout_s=0.3)
    llm_api.script(Reply(content="too late", delay_s=1))
    err = await chat_error(activity_env, acts, agent="Shield Core", message="report")
    assert (err.type, err.non_retryable) == (ErrorType.UPSTREAM_UNAVAILABLE, False)
    assert "timed out after 0.3s" in err.message


async def test_cancelling_a_chat_stops_the_http_call_promptly(activity_env, online, llm_api):
    llm_api.script(Reply(content="never seen", delay_s=2))
    task = asyncio.ensure_future(activity_env.run(online.chat, ChatRequest(agent="Shield Core", message="report")))
    while not llm_api.requests:
        await asyncio.sleep(0.02)
    started = time.monotonic()
    activity_env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1
