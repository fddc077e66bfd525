"""Callback fixtures: a loopback receiver, allowlisted, and the delivery activity aimed at it."""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from activities.callbacks import CallbackActivities
from config import Settings
from tests.support.callback_receiver import CallbackReceiver

SECRET = "callback-test-secret"


@pytest.fixture
def receiver():
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def callback_settings(receiver) -> Settings:
    return Settings(callback_secret=SECRET, callback_allowlist=[f"127.0.0.1:{receiver.port}"], callback_timeout_s=2)


@pytest.fixture
def callbacks(callback_settings) -> CallbackActivities:
    return CallbackActivities(callback_settings)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()
