"""agents.fleet: who is in a fleet, read from the agent registry when the run starts.

An activity (not workflow code) because it reads configuration; its answer is recorded in history,
so a replay sees the same fleet even if agents.yaml changed since. The fleet workflow runs it as a
local activity (on the worker that runs the workflow task), which saves a task dispatch.
"""

from __future__ import annotations

from temporalio import activity

from config.agents import AgentRegistry
from config.errors import NotConfigured
from intents.errors import ErrorType, app_error
from intents.fleets import FLEET_ACTIVITY, FleetLookup, FleetMembers


class AgentDirectoryActivities:
    def __init__(self, agents: AgentRegistry):
        self._agents = agents

    def activities(self) -> list:
        return [self.fleet]

    @activity.defn(name=FLEET_ACTIVITY)
    async def fleet(self, req: FleetLookup) -> FleetMembers:
        try:
            members = self._agents.fleet(req.category)
        except NotConfigured as exc:
            raise app_error(ErrorType.UNKNOWN_AGENT, str(exc)) from None
        return FleetMembers(category=members[0].category if members else req.category, agents=[a.name for a in members])
