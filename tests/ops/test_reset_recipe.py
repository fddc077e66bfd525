"""A GPT workflow failed because its LLM endpoint refused a step; the operator fixes the endpoint and
runs the runbook's reset recipe: the failed step runs again, the steps before it do not."""

from tests.gpt.helpers import chat, run, steps_of, wait_for
from tests.support.openai_server import Reply
from tests.support.runbook import Shell
from tests.support.stack import isolated_stack

DEFINITION = {
    "name": "Fails at the second step",
    "steps": [
        chat("first", "Steady Eddie", "first"),
        chat("second", "Broken Bot", "second: {{steps.first.output}}", waitFor=["first"]),
        chat("third", "Steady Eddie", "third: {{steps.second.output}}", waitFor=["second"]),
    ],
}


def calls(server, model: str) -> int:
    return sum(1 for r in server.requests if r.model == model)


async def test_reset_re_runs_the_failed_step_and_keeps_the_good_ones(
    client, settings, temporal_server, flaky_agents, llm_server, tmp_path
):
    llm_server.on_model("broken", Reply(401, error_message="key expired"))
    async with isolated_stack(client, settings, agents_file=flaky_agents) as (http, _):
        failed = await run(http, DEFINITION, wait=20)
        assert failed["state"] == "failed"
        assert [s["state"] for s in failed["steps"]] == ["succeeded", "failed", "not_run"]
        first_output = steps_of(failed)["first"]["output"]

        llm_server.on_model("broken", Reply(content="fixed"))  # the operator rotates the key
        shell = Shell(temporal_server.address, "default", tmp_path)
        ran = await shell.recipe("reset-failed-gpt-workflow", JOB_ID=failed["workflow_id"])
        assert ran.returncode == 0, ran.stderr

        healed = await wait_for(http, failed["workflow_id"], lambda s: s["state"] == "succeeded", timeout=30)

    steps = steps_of(healed)
    assert [s["state"] for s in healed["steps"]] == ["succeeded"] * 3
    assert steps["first"]["output"] == first_output
    assert steps["second"]["output"] == "fixed"
    assert calls(llm_server, "steady") == 2  # first once (before the reset), third once (after)
    assert calls(llm_server, "broken") == 2  # refused once, then re-run once
