"""An operator steers jobs from a terminal with docs/OPERATIONS.md open: every recipe there is run here,
verbatim, with the real `temporal` CLI and `gpt-orchestrator`, and its effect is checked through the
gateway the way clients see it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support import slow_intent  # noqa: F401 - registers test.slow in this (gateway) process too
from tests.support.runbook import Shell, documented_queries, recipes
from tests.support.stack import isolated_stack, poll_job

TESTED = {
    "list-by-intent", "list-by-mode", "describe", "cancel", "terminate", "reset-failed-gpt-workflow",
    "export-history", "replay-file", "replay-recent", "schedule-list", "schedule-describe", "schedule-runs",
}  # fmt: skip


@pytest.fixture
def shell(temporal_server, tmp_path) -> Shell:
    return Shell(temporal_server.address, "default", tmp_path)


@pytest.fixture
async def slow_stack(client, settings):
    async with isolated_stack(client, settings, extra_intent_modules=["tests.support.slow_intent"]) as (http, _):
        yield http


async def write_memory(api, text: str) -> str:
    resp = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": text}})
    assert resp.status_code == 200, resp.text
    return resp.json()["job_id"]


async def start_slow_job(http, marker: Path) -> str:
    resp = await http.post(
        "/orchestrate", json={"intent": "test.slow", "inputs": {"seconds": 30, "marker": str(marker)}, "async": True}
    )
    assert resp.status_code == 202, resp.text
    await wait_for_line(marker, "start")
    return resp.json()["job_id"]


async def wait_for_line(path: Path, text: str, timeout: float = 20) -> list[str]:
    for _ in range(int(timeout / 0.05)):
        lines = path.read_text().splitlines() if path.exists() else []
        if any(text in line for line in lines):
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


async def eventually(shell: Shell, name: str, expected: str, **env: str) -> str:
    """Visibility is eventually consistent: a just-finished job shows up in lists within moments."""
    for _ in range(50):
        ran = await shell.recipe(name, **env)
        assert ran.returncode == 0, ran.stderr
        if expected in ran.stdout:
            return ran.stdout
        await asyncio.sleep(0.1)
    raise AssertionError(f"{expected!r} not in the output of {name}: {ran.stdout}")


def test_every_recipe_in_the_runbook_is_exercised_here():
    assert set(recipes()) == TESTED


async def test_list_finds_a_job_by_its_intent(api, shell, unique):
    job_id = await write_memory(api, f"listed {unique}")
    out = await eventually(shell, "list-by-intent", job_id)
    assert "IntentWorkflow" in out and "Completed" in out


async def test_list_finds_finished_jobs_by_mode(api, shell, unique):
    job_id = await write_memory(api, f"by mode {unique}")  # memory.write runs in agent mode
    await eventually(shell, "list-by-mode", job_id)


async def test_every_documented_query_is_accepted_by_the_server(shell):
    queries = documented_queries()
    assert len(queries) >= 5
    for query in queries:
        ran = await shell.run('temporal workflow list --query "$QUERY" --limit 1', QUERY=query)
        assert ran.returncode == 0, f"{query}: {ran.stderr}"


async def test_describe_shows_the_summary_and_search_attributes(api, shell, unique):
    job_id = await write_memory(api, f"described {unique}")
    ran = await shell.recipe("describe", JOB_ID=job_id)
    assert ran.returncode == 0, ran.stderr
    assert "IntentWorkflow" in ran.stdout and "COMPLETED" in ran.stdout
    assert "memory.write" in ran.stdout and "StaticSummary" in ran.stdout and f"described {unique}" in ran.stdout


async def stop_a_slow_job(http, shell: Shell, marker: Path, recipe: str) -> dict:
    job_id = await start_slow_job(http, marker)
    ran = await shell.recipe(recipe, JOB_ID=job_id)
    assert ran.returncode == 0, ran.stderr
    return await poll_job(http, job_id, until=("cancelled", "terminated", "success", "error"))


async def test_cancel_reaches_the_running_activity_and_the_job_reads_cancelled(slow_stack, shell, tmp_path):
    marker = tmp_path / "slow.log"
    job = await stop_a_slow_job(slow_stack, shell, marker, "cancel")
    assert job["status"] == "cancelled"
    lines = await wait_for_line(marker, "cancelled")  # the activity saw it, through its heartbeat
    assert [line.split()[0] for line in lines] == ["start", "cancelled"]


async def test_terminate_stops_a_job_at_once_and_it_reads_terminated(slow_stack, shell, tmp_path):
    marker = tmp_path / "slow.log"
    job = await stop_a_slow_job(slow_stack, shell, marker, "terminate")
    assert job["status"] == "terminated"
    assert "paged on-call" in job["error"]["message"]  # the operator's reason is kept
    assert "done" not in marker.read_text()


async def test_a_saved_history_replays_against_the_current_code(api, shell, unique):
    job_id = await write_memory(api, f"replayed {unique}")
    saved = await shell.recipe("export-history", JOB_ID=job_id)
    assert saved.returncode == 0, saved.stderr
    assert '"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"' in (shell.cwd / "history.json").read_text()

    replayed = await shell.recipe("replay-file")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.startswith("ok ") and "IntentWorkflow" in replayed.stdout, replayed.stdout + replayed.stderr


async def test_recent_runs_replay_straight_from_the_server(api, shell, unique):
    await write_memory(api, f"recent {unique}")
    replayed = await shell.recipe("replay-recent")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    lines = replayed.stdout.splitlines()
    assert lines and all(line.startswith("ok ") for line in lines)
    assert "replayed ok" in replayed.stderr


async def test_a_schedule_and_its_runs_are_seen_by_the_temporal_cli(api, client, shell, unique):
    schedule_id = f"ops-{unique}"
    made = await api.post("/schedules", json={"schedule_id": schedule_id, "intent": "memory.write",
                                              "inputs": {"text": f"ops {unique}"}, "every": "2s"})  # fmt: skip
    assert made.status_code == 201, made.text
    try:
        assert schedule_id in await eventually(shell, "schedule-list", schedule_id)
        described = await shell.recipe("schedule-describe", SCHEDULE_ID=schedule_id)
        assert described.returncode == 0 and schedule_id in described.stdout, described.stderr
        runs = await eventually(shell, "schedule-runs", f"sched-{schedule_id}-", SCHEDULE_ID=schedule_id)
        assert "IntentWorkflow" in runs
    finally:
        await client.get_schedule_handle(schedule_id).delete()
