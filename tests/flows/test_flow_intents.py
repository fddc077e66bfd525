"""Every flow intent answers through its own webhook, with the result shape its declaration promises."""

from __future__ import annotations

from intents import registry
from intents.flows import FLOW_WEBHOOK_PATHS, FlowCall


async def test_gmail_search_lists_matching_messages(env, flows, n8n):
    result = await env.run(flows.call, FlowCall(intent="gmail.search", inputs={"query": "from:alice"}, job_id="j1"))
    assert result["found"] == 1 and result["messages"][0]["subject"] == "Team lunch"
    assert n8n.calls("gmail-search")[0].body["dry_run"] is False


async def test_slack_summarize_digests_each_channel(env, flows):
    result = await env.run(
        flows.call,
        FlowCall(intent="slack.summarize", inputs={"channels": ["#general", "ops"], "since": "24h"}, job_id="j2"),
    )
    assert [(c["channel"], c["messages"], c["participants"]) for c in result["channels"]] == [
        ("#general", 3, 2),
        ("#ops", 1, 1),
    ]
    assert result["summary"] == "4 messages in 2 channels"


async def test_digest_daily_filters_by_tags(env, flows):
    result = await env.run(flows.call, FlowCall(intent="digest.daily", inputs={"tags": ["work"]}, job_id="j3"))
    assert result["since"] == "24h" and result["tags"] == ["work"]
    assert result["sections"][0]["items"] == []  # the one 'work' message is read


async def test_every_flow_result_fits_its_declared_output_model(env, flows):
    examples = {spec.name: spec for spec in registry.all_intents() if spec.name in FLOW_WEBHOOK_PATHS}
    assert set(examples) == set(FLOW_WEBHOOK_PATHS)
    for name, spec in examples.items():
        result = await env.run(flows.call, FlowCall(intent=name, inputs=spec.example, job_id=f"example-{name}"))
        spec.output_model.model_validate(result)
