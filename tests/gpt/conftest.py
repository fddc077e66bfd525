"""GPT workflow fixtures: a loopback OpenAI-compatible server, and an agents file whose test agents
(Slow Poke, Broken Bot, Steady Eddie in fleet "Flaky") are served by it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.openai_server import OpenAIServer


@pytest.fixture(scope="session")
def llm_server():
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def flaky_agents(tmp_path: Path, llm_server) -> Path:
    llm_server.reset()
    path = tmp_path / "agents.yaml"
    url = llm_server.base_url
    path.write_text(
        textwrap.dedent(
            f"""
            agents:
              - {{name: Wanderweave, category: Creative, description: travel, system_prompt: travel}}
              - {{name: Shield Core, category: Security, description: report, system_prompt: report}}
              - {{name: Slow Poke, category: Flaky, description: slow, system_prompt: slow, model: slow, base_url: "{url}"}}
              - {{name: Broken Bot, category: Flaky, description: broken, system_prompt: broken, model: broken, base_url: "{url}"}}
              - {{name: Steady Eddie, category: Flaky, description: steady, system_prompt: steady, model: steady, base_url: "{url}"}}
            """
        )
    )
    return path
