"""What the worker hosts: every workflow type and every activity family, in one place."""

from __future__ import annotations

import importlib

from config import Settings
from workflows.intent import IntentWorkflow


def workflow_types() -> list[type]:
    return [IntentWorkflow]


def build_activities(settings: Settings) -> list:
    """Instantiate each activity family with its config; a new family is one line here."""
    from activities.memory import MemoryActivities

    return [
        *MemoryActivities(settings).activities(),
    ]


def extra_activities(settings: Settings) -> list:
    """Activities of EXTRA_INTENT_MODULES: each such module may define `activities(settings) -> list`."""
    found = []
    for name in settings.extra_intent_modules:
        factory = getattr(importlib.import_module(name), "activities", None)
        if factory is not None:
            found += factory(settings)
    return found


def zone_activities(settings: Settings) -> list:
    """Activities a zone worker (`gpt-orchestrator worker --zone NAME`) runs on its own queue."""
    return []
