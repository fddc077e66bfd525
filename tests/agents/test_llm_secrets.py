"""An LLM API refuses our key and, like some real ones, quotes it back in its error: the GPT workflow's
step fails with the API's reason, and the key is in none of the HTTP answer, GET /jobs/{id}, the
histories (the job's and its GPT workflow's) or the logs."""

from __future__ import annotations

import json

from pydantic import SecretStr

from tests.support.leaks import captured_logs, history_text, leaks
from tests.support.openai_server import OpenAIServer
from tests.support.stack import isolated_stack, poll_job

OUR_KEY = "sk-configured-but-revoked-93c1"


async def test_an_llm_that_echoes_our_api_key_fails_the_step_without_repeating_it(client, settings, unique):
    workflow = {
        "name": f"Echoed key {unique}",
        "steps": [{"stepId": "ask", "gpt": "Wanderweave", "action": "message", "params": {"message": "hi"}}],
    }
    with OpenAIServer(api_key="sk-the-key-it-wants") as llm, captured_logs() as logs:
        overrides = dict(
            llm_base_url=llm.base_url, llm_api_key=SecretStr(OUR_KEY), llm_provider="openai", sync_timeout_s=30
        )
        async with isolated_stack(client, settings, **overrides) as (http, _):
            resp = await http.post("/orchestrate", json={"intent": "gpt.workflow", "inputs": workflow})
            job_id = resp.json()["job_id"]
            job = await poll_job(http, job_id)
        assert llm.requests[0].headers["authorization"] == f"Bearer {OUR_KEY}", "the key did go to its own API"

    said = json.dumps(resp.json())
    assert "401" in said and "Incorrect API key provided: [redacted]" in said, said
    history = await history_text(client, job_id)
    assert "Incorrect API key provided: [redacted]" in history
    assert "Completing activity as failed" in logs.getvalue(), "the logs hold the worker's line about the failure"
    for where, text in {
        "HTTP answer": resp.text,
        "GET /jobs": json.dumps(job),
        "history": history,
        "logs": logs.getvalue(),
    }.items():
        assert leaks(OUR_KEY, text) == [], where
