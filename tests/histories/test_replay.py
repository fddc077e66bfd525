"""Determinism: today's workflow code replays every golden history recorded from real runs.

A change that breaks this would break runs already in flight. Use `workflow.patched()` or a new
workflow type instead (README: "Changing workflow code"); re-record with `make record-histories`
only for a change that keeps old histories replayable.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.registration import workflow_types

HISTORIES = sorted(Path(__file__).parent.glob("*.json"))
SCENARIOS = {
    "intent_memory_write": "IntentWorkflow",
    "gpt_sequential": "GptWorkflow",
    "gpt_parallel_skipped": "GptWorkflow",
    "fleet": "FleetWorkflow",
    "approval_approved": "IntentWorkflow",
    "approval_rejected": "IntentWorkflow",
    "gpt_remember": "GptWorkflow",
    "gpt_approval_step": "GptWorkflow",
    "gpt_approval_step_child": "IntentWorkflow",
    "token_ledger": "TokenLedgerWorkflow",
}


def workflow_id_of(path: Path, history: dict) -> str:
    """The recorded run's own id where its commands depend on it (a child's id is `<parent id>.<step>`)."""
    for event in history["events"]:
        child = event.get("startChildWorkflowExecutionInitiatedEventAttributes")
        if child and "." in child["workflowId"]:
            return child["workflowId"].rsplit(".", 1)[0]
    return path.stem


def load(path: Path) -> WorkflowHistory:
    text = path.read_text()
    return WorkflowHistory.from_json(workflow_id_of(path, json.loads(text)), text)


def test_every_scenario_has_a_golden_history():
    assert {p.stem for p in HISTORIES} == set(SCENARIOS)
    for path in HISTORIES:
        first = json.loads(path.read_text())["events"][0]
        assert first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] == SCENARIOS[path.stem]


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_todays_code_replays_the_golden_history(path):
    replayer = Replayer(workflows=workflow_types(), data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
