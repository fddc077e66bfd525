"""An operator opens the Temporal Web UI and understands each run at a glance: a real headless Chromium
loads the UI of the dev server and reads the summaries and live details our workflows set.

`make ui-check` runs this with UI_SCREENSHOT_DIR=docs to refresh the committed screenshot."""

import json
import os
from pathlib import Path

from tests.gpt.helpers import chat, create, run, steps_of, wait_for
from tests.support.browser import Browser
from tests.support.stack import isolated_stack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("UI_SCREENSHOT_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    return target


async def page(client, temporal_server, workflow_id: str) -> str:
    run_id = (await client.get_workflow_handle(workflow_id).describe()).run_id
    return (
        f"http://127.0.0.1:{temporal_server.ui_port}/namespaces/default/workflows/{workflow_id}/{run_id}/user-metadata"
    )


async def test_the_web_ui_shows_what_each_run_is_doing(client, settings, temporal_server, tmp_path):
    shots = shots_dir(tmp_path)
    async with isolated_stack(client, settings) as (http, _):
        audit = await run(http, json.loads((EXAMPLES / "security-audit.json").read_text()))
        fleet = await http.post(
            "/api/gpt-fleets/Creative/orchestrate",
            json={"objective": "Create marketing campaign for new feature"},
            params={"wait": 30},
        )
    assert audit["state"] == "succeeded" and fleet.status_code == 200

    async with Browser() as browser:
        await browser.open(await page(client, temporal_server, audit["workflow_id"]))
        text = await browser.wait_for_text("Security Audit", "4 steps, parallel")
        assert "Summary" in text and "Details" in text
        await browser.screenshot(shots / "web-ui-gpt-workflow.png")

        await browser.open(await page(client, temporal_server, fleet.json()["workflow_id"]))
        await browser.wait_for_text("Fleet Creative: Create marketing campaign for new feature")
        await browser.screenshot(shots / "web-ui-fleet.png")


async def test_a_running_workflow_shows_live_progress(client, settings, temporal_server):
    slow = {
        "name": "Live progress",
        "steps": [
            chat("first", "Wanderweave", "a long story"),
            chat("second", "Shield Core", "more", waitFor=["first"]),
        ],
    }
    async with isolated_stack(client, settings, llm_offline_latency_ms=60_000) as (http, _):
        workflow_id = await create(http, slow)
        await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
        await wait_for(http, workflow_id, lambda s: steps_of(s)["first"]["state"] == "running")

        async with Browser() as browser:
            await browser.open(await page(client, temporal_server, workflow_id))
            await browser.wait_for_text("0/2 steps done, running first")

        await http.post(f"/api/gpt-workflows/{workflow_id}/cancel")
