"""Fixtures for agents and the LLM provider: the shipped agent roster, a real OpenAI-compatible server
on loopback, and LlmActivities wired to it, run inside Temporal's ActivityEnvironment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.llm import LlmActivities
from config.agents import AgentRegistry
from config.settings import Settings
from tests.support.openai_server import OpenAIServer

LLM_KEY = "sk-test-secret-4242"


def llm_settings(**overrides: Any) -> Settings:
    """Settings with every LLM knob explicit, so a developer's LLM_* environment cannot leak in."""
    values: dict[str, Any] = dict(
        llm_provider=None,
        llm_base_url=None,
        llm_api_key=None,
        llm_model="test-model",
        llm_timeout_s=5,
        llm_offline_latency_ms=0,
        agents_file=None,
    )
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def agents() -> AgentRegistry:
    return AgentRegistry.from_settings(llm_settings())


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(api_key=LLM_KEY) as server:
        yield server


@pytest.fixture
def llm_api(openai_server) -> Iterator[OpenAIServer]:
    """The loopback LLM API with a clean script and request log."""
    openai_server.reset()
    yield openai_server
    openai_server.reset()


@pytest.fixture
async def make_llm(agents) -> AsyncIterator[Callable[..., LlmActivities]]:
    """Build LlmActivities from settings overrides (and optionally another registry); closed after the test."""
    built: list[LlmActivities] = []

    def factory(registry: AgentRegistry | None = None, **overrides: Any) -> LlmActivities:
        acts = LlmActivities(llm_settings(**overrides), registry or agents)
        built.append(acts)
        return acts

    yield factory
    for acts in built:
        await acts.aclose()


@pytest.fixture
def online(make_llm, llm_api) -> LlmActivities:
    """LlmActivities pointed at the loopback API with the right key."""
    return make_llm(llm_base_url=llm_api.base_url, llm_api_key=LLM_KEY)


class RecordingEnvironment(ActivityEnvironment):
    """ActivityEnvironment that keeps every heartbeat, to check long waits stay visibly alive."""

    def __init__(self) -> None:
        super().__init__()
        self.heartbeats: list[tuple] = []
        self.on_heartbeat = lambda *details: self.heartbeats.append(details)


@pytest.fixture
def activity_env() -> RecordingEnvironment:
    return RecordingEnvironment()
