"""gpt.workflow and fleet.orchestrate: multi-step work reachable through /orchestrate too.

Each runs as a child workflow (GptWorkflow / FleetWorkflow) of the job's IntentWorkflow, so the job,
its cancellation and its result behave like any other intent's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from config.agents import AgentRegistry
from config.errors import NotConfigured
from intents import registry
from intents.errors import ErrorType
from intents.expressions import templates_in
from intents.fleets import FleetRequest
from intents.gpt_definitions import CHAT_ACTIONS, DefinitionError, GptWorkflowDefinition, validate_definition
from intents.spec import IntentSpec, Mode, RequestRejected, rejected_lookup
from intents.text import quote_short

# Intents a GPT workflow step may not call: they would nest whole workflows inside a step.
NOT_A_STEP = ("gpt.workflow", "fleet.orchestrate")


def agents_for(settings) -> AgentRegistry:
    return AgentRegistry.from_settings(settings)


def check_step_intent(name: str) -> None:
    if name in NOT_A_STEP:
        raise RequestRejected(
            ErrorType.UNKNOWN_INTENT, f"{name} cannot be a step of a GPT workflow (it is a whole workflow)"
        )
    registry.get(name)


def check_definition(defn: GptWorkflowDefinition, settings) -> list[str]:
    """Create-time validation (raises DefinitionError, a RequestRejected -> 400 naming the field)."""
    order = validate_definition(defn, check_agent=agents_for(settings).get, check_intent=check_step_intent)
    check_step_params(defn)
    return order


def check_step_params(defn: GptWorkflowDefinition) -> None:
    """Every intent step's params are validated against the intent's input model now (unless the intent
    opts out with `check_step_params=False`); a value that is a template is checked when it is rendered,
    by the workflow (`steps.validate_step_params`)."""
    for i, step in enumerate(defn.steps):
        if step.action in CHAT_ACTIONS or not registry.get(step.action).check_step_params:
            continue
        templated = {key for key, value in step.params.items() if any(True for _ in templates_in(value))}
        try:
            registry.get(step.action).input_model.model_validate(step.params)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err.get("loc", ())]
                if loc and loc[0] in templated:
                    continue
                field = f"steps[{i}].params" + "".join(f".{p}" for p in loc)
                raise DefinitionError(
                    field, f"step {step.step_id!r}: {field.split('.', 1)[1]}: {err.get('msg', 'invalid')}"
                ) from None


def check_fleet(req: FleetRequest, settings) -> None:
    agents = agents_for(settings)
    try:
        agents.fleet(req.category, field="category")
        if req.synthesize:
            agents.get(req.synthesize, field="synthesize")
    except NotConfigured as err:
        raise rejected_lookup(err) from None


def _gpt_call(intent: str, inputs: dict[str, Any], job_id: str) -> dict[str, Any]:
    return {"definition": inputs, "execute": True}


def _precheck_definition(defn: GptWorkflowDefinition, settings) -> None:
    check_definition(defn, settings)


INTENTS = [
    IntentSpec(
        name="gpt.workflow",
        mode=Mode.WORKER,
        description="Run a multi-step GPT workflow (agents and intents, sequential or a DAG) and return every step's result.",
        input_model=GptWorkflowDefinition,
        child_workflow="GptWorkflow",
        build_call=_gpt_call,
        read_only=False,
        timeout=timedelta(hours=1),
        example={
            "name": "Travel Blog Creation",
            "steps": [
                {
                    "stepId": "content",
                    "gpt": "Wanderweave",
                    "action": "message",
                    "params": {"message": "Paris in spring"},
                },
                {
                    "stepId": "format",
                    "gpt": "ShowBuilder GPT",
                    "action": "message",
                    "params": {"message": "Format as a blog post: {{steps.content.output}}"},
                    "waitFor": ["content"],
                },
            ],
        },  # fmt: skip
        summarize=lambda d: f"{quote_short(d.name)}, {len(d.steps)} steps",
        precheck=_precheck_definition,
    ),
    IntentSpec(
        name="fleet.orchestrate",
        mode=Mode.WORKER,
        description="Give one objective to every agent of a fleet (category); results per agent, optional synthesis.",
        input_model=FleetRequest,
        child_workflow="FleetWorkflow",
        build_call=lambda intent, inputs, job_id: {"request": inputs},  # members: looked up by the workflow
        read_only=False,
        timeout=timedelta(hours=1),
        example={"category": "Creative", "objective": "Create marketing campaign for new feature"},
        summarize=lambda r: f"{r.category}: {quote_short(r.objective)}",
        precheck=check_fleet,
    ),
]
