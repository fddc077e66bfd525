"""What the worker hosts: every workflow type and every activity family, in one place."""

from __future__ import annotations

import importlib

from config import Settings
from workflows.budget import TokenLedgerWorkflow
from workflows.callback import CallbackWorkflow
from workflows.fleet import FleetWorkflow
from workflows.gpt import GptWorkflow
from workflows.intent import IntentWorkflow
from workflows.mcp_catalog import McpCatalogWorkflow


def workflow_types() -> list[type]:
    return [IntentWorkflow, GptWorkflow, FleetWorkflow, McpCatalogWorkflow, CallbackWorkflow, TokenLedgerWorkflow]


def build_activities(settings: Settings) -> list:
    """Instantiate each activity family with its config; a new family is one line here."""
    from activities.agent_directory import AgentDirectoryActivities
    from activities.approvals import ApprovalActivities
    from activities.callbacks import CallbackActivities
    from activities.flows import FlowActivities
    from activities.llm import LlmActivities
    from activities.mcp import McpActivities
    from activities.memory import MemoryActivities
    from activities.ssh import SshActivities
    from config.agents import AgentRegistry

    agents = AgentRegistry.from_settings(settings)
    return [
        *MemoryActivities(settings).activities(),
        *LlmActivities(settings, agents).activities(),
        *AgentDirectoryActivities(agents).activities(),
        *FlowActivities(settings).activities(),
        *McpActivities(settings).activities(),
        *CallbackActivities(settings).activities(),
        *ApprovalActivities().activities(),
        # The preflight (approval gate + zone lookup) and the handlers of hosts without a zone.
        *SshActivities(settings).activities(),
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
    """Activities a zone worker (`gpt-orchestrator worker --zone NAME`) runs on its own queue.

    Only what must run inside the zone: the SSH handlers. The preflight stays on the default queue,
    because it is what names the zone.
    """
    from activities.ssh import SshActivities

    return SshActivities(settings).handlers()
