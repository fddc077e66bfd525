"""An operator pastes a 3-step GPT workflow, is shown a bad field where it is, fixes it, executes it from
the console and watches the DAG's steps turn green one after the other, without reloading."""

from __future__ import annotations

import asyncio
import json

from tests.console.conftest import browser_was_clean, console_stack, shots_dir, sign_in
from tests.support.browser import Browser

STATES = "[...document.querySelectorAll('svg.dag g.node')].map(n => n.dataset.step + '=' + n.dataset.state).join(' ')"


def three_steps(first_agent: str) -> dict:
    chat = lambda step, gpt, text, after=None: {  # noqa: E731
        "stepId": step, "gpt": gpt, "action": "message", "params": {"message": text}, **({"waitFor": [after]} if after else {})
    }  # fmt: skip
    return {
        "name": "Console live",
        "parallel": True,
        "steps": [
            chat("draft", first_agent, "a note"),
            chat("review", "Shield Core", "check it", "draft"),
            chat("publish", "ShowBuilder GPT", "format", "review"),
        ],
    }


async def test_a_three_step_workflow_turns_green_step_by_step_live(client, settings, tmp_path, sshd):
    # Each offline chat takes 1.5 s, so every state is on screen long enough to be seen.
    async with (
        console_stack(client, settings, tmp_path, sshd, llm_offline_latency_ms=1500) as console,
        Browser() as browser,
    ):
        await browser.viewport(1280, 800)
        await sign_in(browser, console, "chatgpt")
        await browser.open(f"{console.page}#/gpt")
        await browser.wait_for("!!document.querySelector('#definition')")

        # A mistake is shown at its field: the unknown agent of steps[0].
        await browser.evaluate(
            f"document.querySelector('#definition').value = {json.dumps(json.dumps(three_steps('Nobody Known'), indent=2))}"
        )
        await browser.evaluate("document.querySelector('button[name=create]').click()")
        problem = await browser.wait_for(
            "document.querySelector('#definition-error li')?.textContent", what="the refusal"
        )
        assert "steps[0].gpt" in problem or "steps.0.gpt" in problem, problem
        assert "line" in problem and await browser.evaluate(
            "document.querySelector('#definition').getAttribute('aria-invalid') === 'true'"
        )

        await browser.evaluate(
            f"document.querySelector('#definition').value = {json.dumps(json.dumps(three_steps('Wanderweave'), indent=2))}"
        )
        await browser.evaluate("document.querySelector('button[name=create]').click()")
        await browser.wait_for("location.hash.startsWith('#/gpt/gptwf-')", what="the created workflow's page")
        await browser.wait_for(
            f"({STATES}) === 'draft=pending review=pending publish=pending'", what="three pending steps and their edges"
        )
        assert await browser.evaluate("document.querySelectorAll('svg.dag path.edge').length") == 2

        await browser.evaluate(
            "[...document.querySelectorAll('button')].find(b => b.textContent === 'Execute').click()"
        )
        seen: list[str] = []
        for _ in range(200):
            states = await browser.evaluate(STATES)
            if not seen or seen[-1] != states:
                seen.append(states)
            if states == "draft=succeeded review=succeeded publish=succeeded":
                break
            await asyncio.sleep(0.1)
        assert seen[-1] == "draft=succeeded review=succeeded publish=succeeded", seen
        # Seen live, in order: each step running while the later ones still wait, then green.
        assert "draft=running review=pending publish=pending" in seen, seen
        assert "draft=succeeded review=running publish=pending" in seen, seen
        assert "draft=succeeded review=succeeded publish=running" in seen, seen
        assert await browser.evaluate("document.querySelector('svg.dag g.node.state-succeeded rect') !== null")
        text = await browser.wait_for_text("[offline:Shield Core]")
        assert "Output" in text
        await browser.screenshot(shots_dir(tmp_path) / "console-gpt-workflow.png")
        browser_was_clean(browser, console)
