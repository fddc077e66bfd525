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

HERE = Path(__file__).parent
# Recorded by `make record-histories` from today's code, and (frozen/) by older code paths that runs
# still in flight may have taken: recorded once, never rewritten.
HISTORIES = sorted(HERE.glob("*.json")) + sorted(HERE.glob("frozen/*.json"))
SCENARIOS = {
    "intent_memory_write": "IntentWorkflow",  # the fast path: its handler is a local activity
    "gpt_sequential": "GptWorkflow",
    "gpt_parallel_skipped": "GptWorkflow",
    "fleet": "FleetWorkflow",
    "approval_approved": "IntentWorkflow",
    "approval_rejected": "IntentWorkflow",
    "gpt_remember": "GptWorkflow",
    "gpt_approval_step": "GptWorkflow",
    "gpt_approval_step_child": "IntentWorkflow",
    "token_ledger": "TokenLedgerWorkflow",
    "approval_request_approved": "IntentWorkflow",  # a human gate, then a local-activity handler
    # frozen/
    "intent_memory_write_normal_activity": "IntentWorkflow",  # before the fast path: a normal activity
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
    # The SDK's default runner: the fully restricted sandbox, which production workers skip for speed
    # (WORKFLOW_SANDBOX). A non-deterministic call in workflow code fails here.
    replayer = Replayer(workflows=workflow_types(), data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_the_memory_write_golden_is_one_workflow_task_with_a_local_activity():
    events = [
        e["eventType"].removeprefix("EVENT_TYPE_")
        for e in json.loads((HERE / "intent_memory_write.json").read_text())["events"]
    ]
    assert events.count("WORKFLOW_TASK_COMPLETED") == 1 and "ACTIVITY_TASK_SCHEDULED" not in events
    markers = [e["markerRecordedEventAttributes"]["markerName"] for e in json.loads((HERE / "intent_memory_write.json").read_text())["events"]
               if "markerRecordedEventAttributes" in e]  # fmt: skip
    assert markers == ["core_patch", "core_local_activity"]
