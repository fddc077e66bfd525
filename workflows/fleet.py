"""FleetWorkflow: every agent of a category gets the same objective; results are gathered per agent.

One slow or failing agent never sinks the rest: each chat has its own time limit and its outcome
(output, failure or timeout) is recorded on its own. An optional lead agent then merges the outputs.

`progress` (query) logs each agent as a step (its name is the step id; the lead's is `synthesis`) and
each answer's usage; with `remember` every answer is stored as a memory tagged `fleet:<id>`.
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
    from intents import remember
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
    from intents.usage import total
    from workflows import details, steps
    from workflows import search_attributes as sa
    from workflows.progress import EventType, ProgressLog, ProgressPage, ProgressQuery, StepPhase, excerpt

SYNTHESIS_STEP = "synthesis"
PHASE_BY_OUTCOME = {
    AgentOutcomeStatus.SUCCEEDED: StepPhase.SUCCEEDED,
    AgentOutcomeStatus.FAILED: StepPhase.FAILED,
    AgentOutcomeStatus.TIMED_OUT: StepPhase.FAILED,
    AgentOutcomeStatus.CANCELLED: StepPhase.CANCELLED,
}

SYNTHESIS_OUTPUT_CHARS = 4000  # per agent, so the lead's prompt stays bounded for big fleets


@workflow.defn(name="FleetWorkflow", failure_exception_types=DATA_ERRORS)
class FleetWorkflow:
    def __init__(self) -> None:
        self._result: FleetResult | None = None
        self._log = ProgressLog()

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
        tokens = f"; {result.usage.short()}" if result.usage.total_tokens else ""
        details.succeeded(
            started, f" ({result.succeeded}/{len(result.agents)} agents answered, {result.failed} failed{tokens})"
        )
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
        step_id = SYNTHESIS_STEP if message is not None else outcome.agent
        outcome.status, outcome.started_at = AgentOutcomeStatus.RUNNING, workflow.now()
        self._step_event(step_id, outcome, StepPhase.STARTED)
        try:
            # One attempt per agent by default: a fleet answers with who answered, it does not stall.
            answer = await steps.chat(
                outcome.agent, message or req.objective, step_id=step_id if message is not None else None,
                timeout_s=req.timeout_s, retry=RetrySpec(max_attempts=2),
            )  # fmt: skip
            outcome.status, outcome.output, outcome.usage = AgentOutcomeStatus.SUCCEEDED, answer.content, answer.usage
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
            self._ended(step_id, outcome)
        if req.remember and outcome.status == AgentOutcomeStatus.SUCCEEDED:
            await self._remember(step_id, outcome)

    def _ended(self, step_id: str, outcome: AgentOutcome) -> None:
        phase = PHASE_BY_OUTCOME.get(outcome.status)
        if phase is None:
            return
        self._step_event(step_id, outcome, phase)
        if outcome.usage is not None:
            self._log.add(EventType.USAGE, workflow.now(), {
                "step_id": step_id, "agent": outcome.agent, "step": outcome.usage.model_dump(mode="json"),
                "total": self._live.usage.model_dump(mode="json"),
            })  # fmt: skip

    def _step_event(self, step_id: str, outcome: AgentOutcome, phase: StepPhase) -> None:
        self._log.add(EventType.STEP, workflow.now(), {
            "step_id": step_id, "action": "message", "agent": outcome.agent, "state": phase,
            "output_excerpt": excerpt(outcome.output) if phase == StepPhase.SUCCEEDED else None,
            "error": excerpt(outcome.error), "error_type": outcome.error_type,
        })  # fmt: skip

    async def _remember(self, step_id: str, outcome: AgentOutcome) -> None:
        """Store one agent's answer as a memory, once (its id comes from the fleet's id and the step)."""
        text = remember.memory_text(outcome.output)
        if text is None:
            return
        tags = [remember.fleet_tag(workflow.info().workflow_id), remember.agent_tag(outcome.agent)]
        tags += [remember.step_tag(step_id)] if step_id == SYNTHESIS_STEP else []
        key = remember.activity_id(step_id)
        try:
            written = await steps.run_intent("memory.write", {"text": text, "tags": tags}, label=key, activity_id=key)
            outcome.memory_id = written.get("id") if isinstance(written, dict) else None
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            outcome.memory_error = getattr(err.cause, "message", None) or str(err.cause or err)

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
        self._live.usage = total(
            [*(o.usage for o in agents), self._live.synthesis.usage if self._live.synthesis else None]
        )
        answered = self._live.succeeded + self._live.failed
        workflow.set_current_details(f"{answered}/{len(agents)} agents answered ({self._live.failed} failed)")

    @workflow.query(name="status")
    def status(self) -> FleetResult | None:
        return self._result

    @workflow.query(name="progress")
    def progress(self, query: ProgressQuery) -> ProgressPage:
        state = self._result.model_dump(mode="json") if query.with_state and self._result is not None else None
        return self._log.page(query, state)
