"""Flow-mode fixtures: a fake n8n on loopback and the flow activity pointed at it."""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from activities.flows import FlowActivities
from config import Settings
from tests.support.n8n_fake import FakeN8n


@pytest.fixture
def n8n():
    fake = FakeN8n().start()
    yield fake
    fake.stop()


@pytest.fixture
def flow_settings(n8n: FakeN8n) -> Settings:
    return Settings(n8n_base_url=n8n.base_url, n8n_webhook_secret=n8n.secret, n8n_timeout_s=2)


@pytest.fixture
def flows(flow_settings: Settings) -> FlowActivities:
    return FlowActivities(flow_settings)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()
