"""A developer changes workflow code; replaying recorded histories tells them, before the deploy, whether
runs already in flight would break. A real nondeterminism check: the histories come from real runs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow

from tests.support.processes import REPO
from worker.replay import NONDETERMINISM, OK, exit_code, replay_files
from workflows.models import IntentRequest


@workflow.defn(name="IntentWorkflow", sandboxed=False)
class IntentWorkflowWithAnInsertedSleep:
    """What an in-place edit looks like: a timer now runs before the activity the recorded run called."""

    @workflow.run
    async def run(self, req: IntentRequest) -> dict:
        await workflow.sleep(timedelta(seconds=1))
        return await workflow.execute_activity("memory.write", req.inputs, start_to_close_timeout=timedelta(seconds=10))


@pytest.fixture
async def recorded(api, client, unique, tmp_path) -> Path:
    """A finished memory.write job's history, saved the way `temporal workflow show --output json` does."""
    resp = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"recorded {unique}"}})
    assert resp.status_code == 200, resp.text
    history = await client.get_workflow_handle(resp.json()["job_id"]).fetch_history()
    path = tmp_path / "memory-write.json"
    path.write_text(history.to_json())
    return path


def ran_as_memory_search(history: dict) -> None:
    """Rewrite the handler's activity type where the history records it: the ActivityTaskScheduled event
    of a normal activity, or the data of a local activity's marker (the fast path)."""
    for event in history["events"]:
        if scheduled := event.get("activityTaskScheduledEventAttributes"):
            scheduled["activityType"]["name"] = "memory.search"
            return
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == "core_local_activity":
            [payload] = marker["details"]["data"]["payloads"]
            data = json.loads(base64.b64decode(payload["data"])) | {"activity_type": "memory.search"}
            payload["data"] = base64.b64encode(json.dumps(data).encode()).decode()
            return
    raise AssertionError("the history records no activity")


def replay_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", "replay", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


async def test_unchanged_code_replays_and_an_inserted_sleep_is_caught(recorded):
    [same] = await replay_files([recorded])
    assert (same.outcome, same.workflow_type, same.source) == (OK, "IntentWorkflow", str(recorded))

    [changed] = await replay_files([recorded], workflows=[IntentWorkflowWithAnInsertedSleep])
    assert changed.outcome == NONDETERMINISM and not changed.ok
    assert "Nondeterminism" in changed.reason or "nondetermin" in changed.reason.lower()
    assert exit_code([same, changed]) == 1


async def test_the_cli_exits_nonzero_when_history_and_code_disagree(recorded, tmp_path):
    # The history says the workflow ran memory.search; today's code runs memory.write.
    history = json.loads(recorded.read_text())
    ran_as_memory_search(history)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(history))

    ran = replay_cli(str(recorded), str(tampered))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    good, bad = ran.stdout.splitlines()
    assert good.startswith("ok ")
    assert bad.startswith("NONDETERMINISM tampered (IntentWorkflow") and "memory.search" in bad


async def test_a_directory_replays_every_history_and_reports_unreadable_files(recorded, tmp_path):
    (tmp_path / "truncated.json").write_text('{"events": [')
    results = await replay_files([tmp_path])
    assert {r.source: r.outcome for r in results} == {str(tmp_path / "truncated.json"): "FAILED", str(recorded): OK}
    assert exit_code(results) == 1
    assert exit_code([]) == 2  # nothing replayed is never a pass
    assert replay_cli().returncode == 2
