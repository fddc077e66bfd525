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


async def test_offline_replies_stream_out_over_the_latency_and_heartbeat_the_text_so_far(activity_env, make_llm):
    acts = make_llm(llm_offline_latency_ms=2200)
    started = time.monotonic()
    result = await activity_env.run(
        acts.chat, ChatRequest(agent="Deploy Pilot", message="Plan the 2.0 rollout", step_id="plan")
    )
    assert 2.19 < time.monotonic() - started < 3
    beats = [details[0] for details in activity_env.heartbeats]
    assert result.offline and 4 <= len(beats) <= 9, beats  # the text so far, about every 0.3 s
    chars = [b["chars"] for b in beats]
    assert chars == sorted(chars) and chars[0] > 0 and chars[-1] <= len(result.content)
    assert all(result.content.startswith(b["tail"]) for b in beats) and {b["step_id"] for b in beats} == {"plan"}
    # Usage is an estimate (about four characters a token), and offline tokens cost nothing.
    assert result.usage.estimated and result.usage.completion_tokens == -(-len(result.content) // 4)
    assert (
        result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
        and result.usage.cost_usd == 0
    )


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
