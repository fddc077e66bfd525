"""MCP fixtures: the test tool server over streamable HTTP (one per module) and over stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.mcp import McpActivities
from config import Settings
from tests.support.mcp_server import STDIO_ARGS, serve_http

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mcp_http_url():
    with serve_http() as server:
        yield f"{server.url}/mcp"


@pytest.fixture
def mcp_settings(mcp_http_url) -> Settings:
    return Settings(
        mcp_servers={
            "local": {"command": [sys.executable, *STDIO_ARGS], "cwd": str(REPO)},
            "web": {"url": mcp_http_url},
        }
    )


@pytest.fixture
def mcp(mcp_settings) -> McpActivities:
    return McpActivities(mcp_settings)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()
