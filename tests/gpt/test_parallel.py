"""parallel: true is a true DAG: independent branches overlap, so wall time is the longest branch."""

from tests.gpt.helpers import chat, run, steps_of, ts
from tests.support.stack import isolated_stack

LATENCY_S = 0.8  # every offline chat takes this long


def diamond(parallel: bool) -> dict:
    return {
        "name": f"Diamond {'parallel' if parallel else 'sequential'}",
        "parallel": parallel,
        "steps": [
            chat("a", "Wanderweave"),
            chat("b", "Design Studio Pro"),
            chat("c", "Shield Core"),
            chat(
                "d",
                "ShowBuilder GPT",
                "merge {{steps.a.output}} {{steps.b.output}} {{steps.c.output}}",
                waitFor=["a", "b", "c"],
            ),
        ],
    }


def wall(status: dict) -> float:
    steps = status["steps"]
    return (max(ts(s["ended_at"]) for s in steps) - min(ts(s["started_at"]) for s in steps)).total_seconds()


async def test_independent_branches_overlap_and_the_join_waits_for_all(client, settings):
    async with isolated_stack(client, settings, llm_offline_latency_ms=int(LATENCY_S * 1000)) as (http, _):
        dag = await run(http, diamond(parallel=True))
        sequential = await run(http, diamond(parallel=False))

    assert dag["state"] == sequential["state"] == "succeeded"
    steps = steps_of(dag)
    # a, b and c ran at the same time: each started before the others ended.
    for x, y in [("a", "b"), ("a", "c"), ("b", "c")]:
        assert ts(steps[x]["started_at"]) < ts(steps[y]["ended_at"]) and ts(steps[y]["started_at"]) < ts(
            steps[x]["ended_at"]
        )
    assert ts(steps["d"]["started_at"]) >= max(ts(steps[s]["ended_at"]) for s in "abc")
    # Longest branch is 2 chats; the sum is 4.
    assert wall(dag) < 2 * LATENCY_S + 0.8
    assert wall(sequential) >= 4 * LATENCY_S
