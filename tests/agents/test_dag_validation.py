"""Create-time checks of a GPT workflow definition: each mistake is a precise 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from config.agents import AgentRegistry
from intents import registry as intent_registry
from intents.errors import ErrorType
from intents.gpt_definitions import DefinitionError, GptWorkflowDefinition, topological_order, validate_definition

TRAVEL_BLOG = {
    "name": "Travel Blog Creation",
    "steps": [
        {"stepId": "content", "gpt": "Wanderweave", "action": "query", "params": {"query": "Paris travel content"}},
        {
            "stepId": "design",
            "gpt": "Design Studio Pro",
            "action": "message",
            "params": {"message": "Layout for: {{steps.content.output}}"},
            "waitFor": ["content"],
        },
        {
            "stepId": "format",
            "gpt": "ShowBuilder GPT",
            "action": "message",
            "params": {"message": "Format as blog post"},
            "waitFor": ["design"],
        },
    ],
    "parallel": False,
}


def defn(steps: list[dict[str, Any]], **extra: Any) -> GptWorkflowDefinition:
    return GptWorkflowDefinition.model_validate({"name": "t", "steps": steps, **extra})


def step(step_id: str, *wait_for: str, **fields: Any) -> dict[str, Any]:
    base = {"stepId": step_id, "gpt": "Shield Core", "action": "message", "params": {"message": "go"}}
    return base | ({"waitFor": list(wait_for)} if wait_for else {}) | fields


def rejected(definition: GptWorkflowDefinition, agents: AgentRegistry | None = None) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        validate_definition(
            definition,
            check_agent=(lambda name: agents.get(name)) if agents else None,
            check_intent=intent_registry.get,
        )
    return caught.value


def test_the_seed_travel_blog_validates_and_keeps_its_camel_case(agents):
    definition = GptWorkflowDefinition.model_validate(TRAVEL_BLOG)
    order = validate_definition(definition, check_agent=agents.get, check_intent=intent_registry.get)
    assert order == ["content", "design", "format"]
    dumped = definition.model_dump(mode="json")
    assert dumped["steps"][1]["waitFor"] == ["content"] and dumped["steps"][1]["stepId"] == "design"
    assert definition.fail_fast is True


def test_snake_case_is_accepted_and_temporal_round_trips_the_definition():
    definition = defn([step("a"), {**step("b"), "wait_for": ["a"], "run_if_skipped": True}], failFast=False)
    assert definition.steps[1].wait_for == ["a"] and definition.fail_fast is False
    converter = pydantic_data_converter.payload_converter
    [payload] = converter.to_payloads([definition])
    assert converter.from_payloads([payload], [GptWorkflowDefinition]) == [definition]


def test_a_duplicate_step_id_names_both_positions():
    err = rejected(defn([step("scan"), step("audit"), step("scan")]))
    assert err.field == "steps[2].stepId"
    assert str(err) == "duplicate stepId 'scan' (steps[0] and steps[2])"
    assert err.error_type == ErrorType.INVALID_DEFINITION


def test_waiting_for_an_unknown_step_suggests_the_right_one():
    err = rejected(defn([step("scan"), step("report", "scna")]))
    assert err.field == "steps[1].waitFor[0]"
    assert str(err) == "step 'report' waits for unknown step 'scna' (did you mean 'scan'?)"


def test_a_cycle_is_named_step_by_step():
    err = rejected(defn([step("a", "c"), step("b", "a"), step("c", "b"), step("d")]))
    assert "waitFor cycle: a -> c -> b -> a" in str(err)
    assert err.field == "steps[0].waitFor" and err.details == {"cycle": ["a", "c", "b", "a"]}
    assert "waits for itself" in str(rejected(defn([step("a", "a")])))


def test_chat_steps_need_an_agent_and_their_text():
    err = rejected(defn([{"stepId": "a", "action": "query", "params": {"query": "q"}}]))
    assert (err.field, str(err)) == ("steps[0].gpt", "step 'a': action 'query' needs 'gpt' (an agent name)")
    err = rejected(defn([step("a", params={"text": "hi"})]))
    assert err.field == "steps[0].params.message"


def test_an_unknown_agent_is_a_400_with_a_suggestion(agents):
    err = rejected(defn([step("a", gpt="Aegis Sentinal")]), agents)
    assert err.field == "steps[0].gpt" and err.error_type == ErrorType.UNKNOWN_AGENT
    assert "unknown agent; did you mean 'Aegis Sentinel'?" in str(err)


def test_an_unknown_intent_is_a_400_with_a_suggestion():
    err = rejected(defn([{"stepId": "save", "action": "memory.wrte", "params": {"text": "x"}}]))
    assert err.field == "steps[0].action" and err.error_type == ErrorType.UNKNOWN_INTENT
    assert (
        "unknown action" in str(err) and "'memory.wrte'" not in str(err) and "did you mean 'memory.write'" in str(err)
    )


def test_intent_steps_mix_with_agent_steps_but_take_no_agent():
    ok = defn(
        [
            step("draft"),
            {
                "stepId": "save",
                "action": "memory.write",
                "params": {"text": "{{steps.draft.output}}"},
                "waitFor": ["draft"],
            },
        ],
        parallel=True,
    )
    assert validate_definition(ok, check_intent=intent_registry.get) == ["draft", "save"]
    err = rejected(defn([{"stepId": "save", "gpt": "Shield Core", "action": "memory.write", "params": {}}]))
    assert err.field == "steps[0].gpt"


def test_a_bad_condition_is_caught_at_create_time():
    err = rejected(defn([step("scan"), step("fix", "scan", condition="steps.scan.output.findings >")]))
    assert err.field == "steps[1].condition"
    assert "bad condition" in str(err) and "incomplete expression" in str(err)
    err = rejected(defn([step("scan"), step("fix", "scan", condition="count(steps.scan.output) > 1")]))
    assert "unknown function count()" in str(err)


def test_conditions_and_templates_may_only_read_earlier_steps():
    err = rejected(defn([step("scan"), step("fix", "scan", condition="steps.scam.output.findings > 0")]))
    assert "condition refers to unknown step 'scam' (did you mean 'scan'?)" in str(err)
    err = rejected(
        defn(
            [step("scan"), step("audit"), step("fix", "scan", params={"message": "{{steps.audit.output}}"})],
            parallel=True,
        )
    )
    assert err.field == "steps[2].params.message"
    assert "reads step 'audit' but does not wait for it; add 'audit' to its waitFor" in str(err)
    err = rejected(defn([step("first", params={"message": "{{steps.second.output}}"}), step("second")]))
    assert "reads step 'second', which runs after it" in str(err)
    # Sequential runs may read any earlier step without listing it in waitFor.
    validate_definition(defn([step("first"), step("second", params={"message": "{{steps.first.output}}"})]))


def test_malformed_steps_are_pydantic_errors_naming_the_field():
    with pytest.raises(ValidationError, match="waitfor"):
        defn([{**step("a"), "waitfor": ["b"]}])
    with pytest.raises(ValidationError, match="stepId"):
        defn([step("has space")])
    with pytest.raises(ValidationError, match="timeout"):
        defn([step("a", timeout=0)])


def test_topological_order_keeps_file_order_among_ready_steps():
    definition = defn([step("report", "scan", "audit"), step("scan"), step("notify", "report"), step("audit")])
    assert topological_order(definition) == ["scan", "audit", "report", "notify"]
