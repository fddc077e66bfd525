"""Failure handling: fail_fast cancels what runs and skips what waits; without it, everything that
does not depend on the failure still runs. Fleets report each agent's fate and never sink together."""

from tests.gpt.helpers import chat, run, steps_of
from tests.support.openai_server import Reply
from tests.support.stack import isolated_stack


def failing_dag(fail_fast: bool) -> dict:
    return {
        "name": f"fail_fast={fail_fast}",
        "parallel": True,
        "fail_fast": fail_fast,
        "steps": [
            chat("slow", "Slow Poke"),
            chat("broken", "Broken Bot"),
            chat("after_broken", "Steady Eddie", "{{steps.broken.output}}", waitFor=["broken"]),
            chat("after_slow", "Steady Eddie", "{{steps.slow.output}}", waitFor=["slow"]),
        ],
    }


async def test_fail_fast_cancels_running_steps_and_does_not_run_the_rest(client, settings, flaky_agents, llm_server):
    llm_server.on_model("slow", Reply(content="slow answer", delay_s=30))
    llm_server.on_model("broken", Reply(400, error_message="bad request"))
    async with isolated_stack(client, settings, agents_file=flaky_agents) as (http, _):
        status = await run(http, failing_dag(fail_fast=True), wait=25)

    steps = steps_of(status)
    assert status["state"] == "failed"
    assert steps["broken"]["state"] == "failed" and steps["broken"]["error_type"] == "UpstreamBadRequest"
    assert steps["slow"]["state"] == "cancelled"
    assert steps["after_broken"]["state"] == steps["after_slow"]["state"] == "not_run"


async def test_without_fail_fast_independent_steps_still_run(client, settings, flaky_agents, llm_server):
    llm_server.on_model("slow", Reply(content="slow answer", delay_s=0.5))
    llm_server.on_model("broken", Reply(400))
    async with isolated_stack(client, settings, agents_file=flaky_agents) as (http, _):
        status = await run(http, failing_dag(fail_fast=False), wait=25)

    steps = steps_of(status)
    assert status["state"] == "failed"
    assert steps["slow"]["state"] == "succeeded" and steps["after_slow"]["state"] == "succeeded"
    assert steps["after_slow"]["output"].startswith("echo:")
    assert steps["after_broken"]["state"] == "not_run"
    assert "broken" in steps["after_broken"]["reason"]


async def test_a_false_condition_skips_the_step_and_its_dependents(api):
    status = await run(
        api,
        {
            "name": "Conditional",
            "parallel": True,
            "steps": [
                chat("scan", "Aegis Sentinel", "scan"),
                chat(
                    "alarm",
                    "Shield Core",
                    "raise the alarm",
                    waitFor=["scan"],
                    condition="steps.scan.status == 'failed'",
                ),
                chat("escalate", "Shield Core", "escalate", waitFor=["alarm"]),
                chat("always", "Shield Core", "log it", waitFor=["alarm"], runIfSkipped=True),
            ],
        },
    )
    steps = steps_of(status)
    assert status["state"] == "succeeded"
    assert steps["alarm"]["state"] == "skipped" and "condition is false" in steps["alarm"]["reason"]
    assert steps["escalate"]["state"] == "skipped"
    assert steps["always"]["state"] == "succeeded"


async def test_one_slow_and_one_broken_agent_do_not_sink_the_fleet(client, settings, flaky_agents, llm_server):
    llm_server.on_model("slow", Reply(content="too late", delay_s=20))
    llm_server.on_model("broken", Reply(400))
    async with isolated_stack(client, settings, agents_file=flaky_agents) as (http, _):
        resp = await http.post(
            "/api/gpt-fleets/flaky/orchestrate",
            json={"objective": "status report", "timeout_s": 2, "synthesize": "Steady Eddie"},
            params={"wait": 30},
        )

    assert resp.status_code == 200, resp.text
    fleet = resp.json()
    by_agent = {a["agent"]: a for a in fleet["agents"]}
    assert by_agent["Steady Eddie"]["status"] == "succeeded"
    assert by_agent["Broken Bot"]["status"] == "failed"
    assert by_agent["Slow Poke"]["status"] == "timed_out"
    assert fleet["succeeded"] == 1 and fleet["failed"] == 2
    assert fleet["synthesis"]["status"] == "succeeded"
    assert "Steady Eddie" in fleet["synthesis"]["output"] and "Broken Bot" not in fleet["synthesis"]["output"]


async def test_gpt_workflows_and_fleets_are_intents_too(api):
    wf = await api.post(
        "/orchestrate",
        json={
            "intent": "gpt.workflow",
            "inputs": {"name": "Via orchestrate", "steps": [chat("only", "Wanderweave", "hi")]},
        },
    )
    fleet = await api.post(
        "/orchestrate", json={"intent": "fleet.orchestrate", "inputs": {"category": "security", "objective": "audit"}}
    )

    assert wf.status_code == 200, wf.text
    assert wf.json()["result"]["state"] == "succeeded"
    assert wf.json()["result"]["steps"][0]["output"].startswith("[offline:Wanderweave]")
    assert fleet.status_code == 200, fleet.text
    assert fleet.json()["result"]["category"] == "Security" and fleet.json()["result"]["failed"] == 0
