"""Live progress stories: a real worker whose offline agents take their time, so steps are watched as they run."""

from __future__ import annotations

import pytest

from tests.support.stack import isolated_stack


@pytest.fixture
async def slow_stack(client, settings):
    """Its own worker and gateway: each offline chat streams its reply out over 2.5 s."""
    async with isolated_stack(client, settings, llm_offline_latency_ms=2500) as (http, local):
        yield http, local
