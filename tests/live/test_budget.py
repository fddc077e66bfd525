"""A tenant's daily token budget: once the day's tokens are spent, the next LLM step fails with a clear
`BudgetExceeded` before anything is sent to the model (never a half-run step); the ledger is a Temporal
workflow every worker reads, so the count holds across runs and processes."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from activities.budget import utc_day
from intents.budget import ledger_id
from intents.gpt_definitions import GptWorkflowDefinition
from tests.support.openai_server import Reply
from tests.support.stack import isolated_stack
from workflows import search_attributes as sa
from workflows.gpt import GptWorkflow, GptWorkflowInput

USAGE = {"prompt_tokens": 100, "completion_tokens": 44, "total_tokens": 144}


@pytest.fixture
def metered_agent(llm_server, tmp_path):
    llm_server.reset()
    llm_server.on_model("metered", Reply(content="a counted answer", usage=USAGE))
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        textwrap.dedent(f"""
        agents:
          - {{name: Counter, category: Metered, system_prompt: count, model: metered, base_url: "{llm_server.base_url}"}}
    """)
    )
    yield agents
    llm_server.reset()


async def run_for(client, task_queue: str, tenant: str, name: str) -> dict:
    """A one-step workflow of `tenant` (its Tenant search attribute, as the gateway sets it per key)."""
    definition = GptWorkflowDefinition.model_validate({"name": name, "steps": [
        {"stepId": "ask", "gpt": "Counter", "action": "message", "params": {"message": name}}]})  # fmt: skip
    handle = await client.start_workflow(
        GptWorkflow.run, GptWorkflowInput(definition=definition, execute=True), id=f"budget-{uuid.uuid4().hex}",
        task_queue=task_queue, search_attributes=TypedSearchAttributes([SearchAttributePair(sa.TENANT, tenant)]),
    )  # fmt: skip
    try:
        await handle.result()
    except Exception:  # noqa: BLE001 - a refused step fails the workflow; its status says why
        pass
    return (await handle.query(GptWorkflow.status)).model_dump(mode="json")


async def test_a_spent_budget_refuses_the_next_llm_step_before_anything_is_sent(
    client, settings, llm_server, metered_agent, unique
):
    tenant = f"team-{unique}"
    async with isolated_stack(client, settings, agents_file=metered_agent, llm_token_budgets={tenant: 200}) as (
        http,
        local,
    ):
        first = await run_for(client, local.task_queue, tenant, "first")
        second = await run_for(client, local.task_queue, tenant, "second")  # 144 used < 200: admitted
        third = await run_for(client, local.task_queue, tenant, "third")  # 288 used: refused
        other = await run_for(client, local.task_queue, f"other-{unique}", "another tenant")  # no budget of its own

        used = await client.get_workflow_handle(ledger_id(tenant, utc_day())).query("used", result_type=int)
        listed = await http.get(f"/api/gpt-workflows/{third['workflow_id']}")

    assert [first["state"], second["state"], third["state"], other["state"]] == [
        "succeeded",
        "succeeded",
        "failed",
        "succeeded",
    ]
    step = third["steps"][0]
    assert step["error_type"] == "BudgetExceeded" and step["state"] == "failed"
    assert (
        f"tenant {tenant!r}" in step["error"]
        and "288 of 200 tokens" in step["error"]
        and "nothing was sent" in step["error"]
    )
    assert [r.messages[-1]["content"] for r in llm_server.requests] == ["first", "second", "another tenant"], (
        "the refused step sent nothing"
    )
    assert used == 288
    assert listed.status_code == 200 and listed.json()["steps"][0]["error_type"] == "BudgetExceeded"
