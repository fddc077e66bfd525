"""FleetWorkflow: every agent of a category gets the same objective; results are gathered per agent.

One slow or failing agent never sinks the rest: each chat has its own time limit and its outcome
(output, failure or timeout) is recorded on its own. An optional lead agent then merges the outputs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.exceptions import TimeoutError as TemporalTimeout

from workflows.failures import DATA_ERRORS

with workflow.unsafe.imports_passed_through():
    from intents.fleets import (
        FLEET_ACTIVITY,
        AgentOutcome,
        AgentOutcomeStatus,
        FleetLookup,
        FleetMembers,
        FleetRequest,
        FleetResult,
        FleetRun,
    )  # fmt: skip
    from intents.spec import RetrySpec
    from workflows import details, steps
    from workflows import search_attributes as sa

SYNTHESIS_OUTPUT_CHARS = 4000  # per agent, so the lead's prompt stays bounded for big fleets


@workflow.defn(name="FleetWorkflow", failure_exception_types=DATA_ERRORS)
class FleetWorkflow:
    def __init__(self) -> None:
        self._result: FleetResult | None = None

    @property
    def _live(self) -> FleetResult:
        """The run's result so far, which exists from the first line of run() on."""
        assert self._result is not None
        return self._result

    @workflow.run
    async def run(self, run: FleetRun) -> FleetResult:
        started = workflow.now()
        try:
            result = await self._gather(run)
        except details.CLOSING as err:
            details.ended_by(err)
            raise
        details.succeeded(started, f" ({result.succeeded}/{len(result.agents)} agents answered, {result.failed} failed)")
        return result

    async def _gather(self, run: FleetRun) -> FleetResult:
        req = run.request
        members = run.members or await self._members(req.category)
        workflow.upsert_search_attributes([sa.FLEET.value_set(members.category), sa.AGENT.value_set(members.agents)])
        self._result = FleetResult(
            category=members.category,
            objective=req.objective,
            parallel=req.parallel,
            agents=[AgentOutcome(agent=name) for name in members.agents],
        )
        if req.parallel:
            await asyncio.gather(*(self._ask(o, req) for o in self._live.agents))
        else:
            for outcome in self._live.agents:
                await self._ask(outcome, req)
        if req.synthesize:
            self._live.synthesis = AgentOutcome(agent=req.synthesize)
            await self._ask(self._live.synthesis, req, message=self._synthesis_prompt(req))
        self._progress()
        return self._result

    @staticmethod
    async def _members(category: str) -> FleetMembers:
        # A local activity: it only reads config on this worker, and its answer is still recorded in
        # history, without the extra task dispatch a normal activity costs.
        return await workflow.execute_local_activity(
            FLEET_ACTIVITY,
            FleetLookup(category=category),
            result_type=FleetMembers,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary=f"who is in fleet {category}",
        )

    async def _ask(self, outcome: AgentOutcome, req: FleetRequest, message: str | None = None) -> None:
        outcome.status, outcome.started_at = AgentOutcomeStatus.RUNNING, workflow.now()
        try:
            # One attempt per agent by default: a fleet answers with who answered, it does not stall.
            answer = await steps.chat(
                outcome.agent, message or req.objective, timeout_s=req.timeout_s, retry=RetrySpec(max_attempts=2)
            )
            outcome.status, outcome.output = AgentOutcomeStatus.SUCCEEDED, answer.content
        except ActivityError as err:
            if is_cancelled_exception(err):
                outcome.status = AgentOutcomeStatus.CANCELLED
                raise
            cause = err.cause
            timed_out = isinstance(cause, TemporalTimeout)
            outcome.status = AgentOutcomeStatus.TIMED_OUT if timed_out else AgentOutcomeStatus.FAILED
            outcome.error = getattr(cause, "message", None) or str(cause or err)
            outcome.error_type = "TimedOut" if timed_out else getattr(cause, "type", None)
        finally:
            outcome.ended_at = workflow.now()
            self._progress()

    def _synthesis_prompt(self, req: FleetRequest) -> str:
        parts = [f"Objective: {req.objective}", "Merge the fleet's answers below into one coherent result."]
        for o in self._live.agents:
            if o.status == AgentOutcomeStatus.SUCCEEDED:
                parts.append(f"--- {o.agent} ---\n{(o.output or '')[:SYNTHESIS_OUTPUT_CHARS]}")
        return "\n\n".join(parts)

    def _progress(self) -> None:
        agents = self._live.agents
        self._live.succeeded = sum(o.status == AgentOutcomeStatus.SUCCEEDED for o in agents)
        self._live.failed = sum(o.status in (AgentOutcomeStatus.FAILED, AgentOutcomeStatus.TIMED_OUT) for o in agents)
        answered = self._live.succeeded + self._live.failed
        workflow.set_current_details(f"{answered}/{len(agents)} agents answered ({self._live.failed} failed)")

    @workflow.query(name="status")
    def status(self) -> FleetResult | None:
        return self._result
