"""The offline provider: `make dev` and the examples work with no network, and say so plainly."""

from __future__ import annotations

import time

import pytest
from temporalio.exceptions import ApplicationError

from config.agents import AgentConfigError, AgentRegistry
from intents.agents import ChatRequest
from intents.errors import ErrorType


async def test_offline_replies_are_labelled_readable_and_deterministic(activity_env, make_llm):
    acts = make_llm()  # no LLM_BASE_URL: offline by default
    req = ChatRequest(agent="wanderweave", message="Generate travel content for Paris", context=["I love museums"])
    first = await activity_env.run(acts.chat, req)
    again = await activity_env.run(acts.chat, req)

    assert first == again
    assert (first.provider, first.offline, first.agent, first.model) == ("offline", True, "Wanderweave", "offline")
    assert first.content.startswith("[offline:Wanderweave] ")
    assert "Generate travel content for Paris" in first.content
    assert "Context used: I love museums" in first.content


async def test_different_questions_get_different_offline_answers(activity_env, make_llm):
    acts = make_llm()
    a = await activity_env.run(acts.chat, ChatRequest(agent="Aegis Sentinel", message="Scan the API"))
    b = await activity_env.run(acts.chat, ChatRequest(agent="Aegis Sentinel", message="Scan the database"))
    c = await activity_env.run(acts.chat, ChatRequest(agent="Shield Core", message="Scan the API"))
    assert len({a.content, b.content, c.content}) == 3


async def test_offline_latency_is_simulated_while_heartbeating(activity_env, make_llm):
    acts = make_llm(llm_offline_latency_ms=2200)
    started = time.monotonic()
    result = await activity_env.run(acts.chat, ChatRequest(agent="Deploy Pilot", message="Plan the 2.0 rollout"))
    assert 2.19 < time.monotonic() - started < 3
    assert result.offline and len(activity_env.heartbeats) == 2  # one a second while it "thinks"


async def test_an_agent_can_stay_offline_while_others_use_the_api(activity_env, make_llm, tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {name: Stub, category: Lab, system_prompt: p, provider: offline}\n")
    acts = make_llm(AgentRegistry.load(path), llm_base_url="http://127.0.0.1:9/v1")
    assert (await activity_env.run(acts.chat, ChatRequest(agent="stub", message="hi"))).offline


async def test_asking_an_unknown_agent_fails_without_retrying(activity_env, make_llm):
    acts = make_llm()
    with pytest.raises(ApplicationError) as caught:
        await activity_env.run(acts.chat, ChatRequest(agent="Shield Cor", message="hi"))
    assert (caught.value.type, caught.value.non_retryable) == (ErrorType.UNKNOWN_AGENT, True)
    assert "did you mean 'Shield Core'" in caught.value.message


def test_a_worker_with_a_misconfigured_agent_refuses_to_start(make_llm, tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {name: Remote, category: Lab, system_prompt: p, provider: openai}\n")
    with pytest.raises(AgentConfigError, match="no base_url"):
        make_llm(AgentRegistry.load(path))
