"""DagRun, the pure state machine behind GptWorkflow: which steps start, skip, fail or never run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from workflows.dag import DagRun, GptWorkflowDefinition, RunStatus, StepState

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_run(*steps: dict[str, Any], parallel: bool = True, fail_fast: bool = True) -> DagRun:
    return DagRun(
        GptWorkflowDefinition.model_validate(
            {"name": "t", "parallel": parallel, "fail_fast": fail_fast, "steps": list(steps)}
        )
    )


def step(step_id: str, *wait_for: str, **fields: Any) -> dict[str, Any]:
    return {
        "stepId": step_id,
        "gpt": "Shield Core",
        "action": "message",
        "params": {"message": step_id},
        "waitFor": list(wait_for),
    } | fields


def started(run: DagRun, now: float = 0) -> list[str]:
    return [r.step.step_id for r in run.advance(at(now))]


def states(run: DagRun) -> dict[str, str]:
    return {sid: str(r.state) for sid, r in run.records.items()}


def test_a_sequential_run_goes_one_step_at_a_time_in_order():
    run = make_run(step("content"), step("design", "content"), step("format", "design"), parallel=False)
    for i, sid in enumerate(["content", "design", "format"]):
        assert started(run, i) == [sid]
        assert started(run, i) == [], "nothing else starts while a step runs"
        run.succeeded(sid, f"{sid} done", at(i + 0.5))
    assert run.finished and run.status == RunStatus.SUCCEEDED
    content = run.records["content"]
    assert (content.started_at, content.ended_at, content.output) == (at(0), at(0.5), "content done")


def test_sequential_mode_ignores_independence_and_keeps_file_order():
    run = make_run(step("a"), step("b"), parallel=False)
    assert started(run) == ["a"]
    run.succeeded("a", 1, at(1))
    assert started(run, 1) == ["b"]


def test_independent_branches_start_together_and_the_join_waits_for_both():
    run = make_run(step("scan"), step("audit"), step("report", "scan", "audit"))
    assert started(run) == ["scan", "audit"]
    run.succeeded("audit", {"gaps": 1}, at(1))
    assert started(run, 1) == []
    run.succeeded("scan", {"findings": 3}, at(2))
    assert started(run, 2) == ["report"]
    assert run.records["report"].started_at == at(2)


def test_a_diamond_renders_templates_from_both_parents():
    run = make_run(
        step("root"),
        step("left", "root"),
        step("right", "root"),
        step(
            "join",
            "left",
            "right",
            params={"message": "{{steps.left.output}} + {{steps.right.output}}", "raw": "{{steps.right.output}}"},
        ),
    )
    assert started(run) == ["root"]
    run.succeeded("root", "r", at(1))
    assert started(run, 1) == ["left", "right"]
    run.succeeded("right", {"n": 2}, at(2))
    run.succeeded("left", "L", at(3))
    [join] = run.advance(at(3))
    assert join.params == {"message": 'L + {"n": 2}', "raw": {"n": 2}}


def test_a_false_condition_skips_the_step_and_its_dependents_unless_they_opt_in():
    run = make_run(
        step("scan"),
        step("fix", "scan", condition="steps.scan.output.findings > 0"),
        step("verify", "fix"),
        step("report", "fix", runIfSkipped=True),
    )
    assert started(run) == ["scan"]
    run.succeeded("scan", {"findings": 0}, at(1))
    assert started(run, 1) == ["report"]
    assert states(run) == {"scan": "succeeded", "fix": "skipped", "verify": "skipped", "report": "running"}
    assert run.records["fix"].reason == "condition is false: steps.scan.output.findings > 0"
    assert run.records["verify"].reason == "waits for 'fix', which was skipped"
    assert run.records["fix"].ended_at == at(1) and run.records["fix"].started_at is None
    run.succeeded("report", "ok", at(2))
    assert run.status == RunStatus.SUCCEEDED


def test_a_true_condition_lets_the_step_run():
    run = make_run(step("scan"), step("fix", "scan", condition="steps.scan.output.findings > 0"))
    started(run)
    run.succeeded("scan", {"findings": 2}, at(1))
    assert started(run, 1) == ["fix"]


def test_fail_fast_cancels_running_steps_and_the_rest_do_not_run():
    run = make_run(step("a"), step("b"), step("c", "a"), step("d", "b"))
    assert started(run) == ["a", "b"]
    run.failed("a", "boom", "UpstreamUnavailable", at(1))
    assert run.steps_to_cancel() == ["b"]
    assert run.steps_to_cancel() == [], "each cancel is asked for once"
    assert started(run, 1) == []
    assert not run.finished
    run.cancelled("b", at(2))
    assert states(run) == {"a": "failed", "b": "cancelled", "c": "not_run", "d": "not_run"}
    assert run.records["c"].reason == "step 'a' failed (fail_fast)"
    assert (run.records["a"].error, run.records["a"].error_type) == ("boom", "UpstreamUnavailable")
    assert run.finished and run.status == RunStatus.FAILED


def test_without_fail_fast_only_the_failures_dependents_are_not_run():
    run = make_run(step("a"), step("b"), step("c", "a"), step("d", "b"), step("e", "c"), fail_fast=False)
    assert started(run) == ["a", "b"]
    run.failed("a", "boom", None, at(1))
    assert run.steps_to_cancel() == []
    assert started(run, 1) == []
    run.succeeded("b", "ok", at(2))
    assert started(run, 2) == ["d"]
    run.succeeded("d", "ok", at(3))
    assert states(run) == {"a": "failed", "b": "succeeded", "c": "not_run", "d": "succeeded", "e": "not_run"}
    assert run.records["e"].reason == "waits for 'c', which ended not_run"
    assert run.status == RunStatus.FAILED


def test_sequential_without_fail_fast_keeps_going_past_a_failure():
    run = make_run(step("a"), step("b", "a"), step("c"), parallel=False, fail_fast=False)
    assert started(run) == ["a"]
    run.failed("a", "boom", None, at(1))
    assert started(run, 1) == ["c"]
    assert run.records["b"].state == StepState.NOT_RUN


def test_cancelling_the_run_cancels_running_steps_and_marks_the_rest():
    run = make_run(step("a"), step("b", "a"))
    started(run)
    assert run.abort(at(1)) == ["a"]
    run.cancelled("a", at(2))
    assert states(run) == {"a": "cancelled", "b": "not_run"}
    assert run.records["b"].reason == "the workflow was cancelled"
    assert run.status == RunStatus.CANCELLED


def test_cancelling_before_anything_started_leaves_nothing_to_cancel():
    run = make_run(step("a"))
    assert run.abort(at(0)) == []
    assert run.finished and run.status == RunStatus.CANCELLED


def test_a_condition_that_cannot_be_evaluated_fails_the_step():
    run = make_run(step("write"), step("check", "write", condition="steps.write.output > 1"), step("other"))
    assert started(run) == ["write", "other"]
    run.succeeded("write", "some text", at(1))
    assert started(run, 1) == []
    check = run.records["check"]
    assert check.state == StepState.FAILED and check.error_type == "ExpressionError"
    assert run.steps_to_cancel() == ["other"]


def test_a_failure_while_settling_does_not_start_the_steps_picked_in_the_same_pass():
    run = make_run(step("root"), step("ok", "root"), step("bad", "root", condition="steps.root.output > 1"))
    started(run)
    run.succeeded("root", "text", at(1))
    assert started(run, 1) == []
    assert states(run) == {"root": "succeeded", "ok": "not_run", "bad": "failed"}
    assert run.finished and run.steps_to_cancel() == []


def test_the_context_and_snapshot_show_every_step():
    run = make_run(step("a"), step("b", "a"))
    started(run)
    run.succeeded("a", {"x": 1}, at(1))
    assert run.context()["steps"]["a"] == {"status": "succeeded", "output": {"x": 1}, "error": None}
    assert run.context()["steps"]["b"]["status"] == "pending"
    snapshot = run.snapshot()
    snapshot[0].output["x"] = 99
    assert run.records["a"].output == {"x": 1}, "snapshots are copies"
    assert [r.model_dump(mode="json")["state"] for r in snapshot] == ["succeeded", "pending"]


def test_reporting_a_step_that_is_not_running_is_a_bug():
    run = make_run(step("a"))
    with pytest.raises(ValueError, match="step 'a' is pending, not running"):
        run.succeeded("a", None, at(0))
