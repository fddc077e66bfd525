"""An operator greps the gateway's JSON logs for a job_id and finds the request that started it;
secrets never reach a log line."""

from __future__ import annotations

import contextlib
import io
import json
import logging

from pydantic import SecretStr

from config import Settings
from infra.logs import JsonFormatter, TextFormatter, bind, log_context
from tests.support.stack import isolated_stack
from worker.logging_setup import redaction


@contextlib.contextmanager
def captured(logger_name: str, formatter: logging.Formatter):
    """Format at emit time, as a real handler does (the job fields live in the request's context)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(logger_name)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


async def test_the_gateway_access_line_names_the_job_and_intent(client, settings, unique):
    with captured("gpt_orchestrator.gateway.access", JsonFormatter()) as stream:
        async with isolated_stack(client, settings) as (http, _):
            resp = await http.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"log {unique}"}})
            job_id = resp.json()["job_id"]
            await http.get(f"/jobs/{job_id}")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    started, read = lines
    assert started["message"] == "POST /orchestrate 200"
    assert (started["job_id"], started["workflow_id"], started["intent"]) == (job_id, job_id, "memory.write")
    assert started["route"] == "/orchestrate" and started["status"] == 200 and started["duration_ms"] > 0
    assert read["route"] == "/jobs/{job_id}" and read["job_id"] == job_id  # taken from the path


def test_secrets_are_masked_in_json_and_text_lines():
    clean = redaction(
        Settings(n8n_webhook_secret=SecretStr("n8n-shared-secret"))
    )  # what worker/logging_setup.py installs
    with captured("gpt_orchestrator.test", JsonFormatter(clean)) as as_json, log_context(job_id="orch-1"):
        bind(intent="memory.write")
        logging.getLogger("gpt_orchestrator.test").info(
            "calling upstream",
            extra={"llm_api_key": "sk-live-123", "config": {"password": "hunter2"}, "key": SecretStr("s3")},
        )
    line = json.loads(as_json.getvalue())
    assert (line["job_id"], line["intent"]) == ("orch-1", "memory.write")
    assert line["llm_api_key"] == "***" and line["config"] == {"password": "***"} and line["key"] == "**********"

    with (
        captured("gpt_orchestrator.test", TextFormatter(clean)) as as_text,
        log_context(job_id="orch-2", intent="ssh.exec"),
    ):
        logging.getLogger("gpt_orchestrator.test").info("hello")
    assert as_text.getvalue().rstrip().endswith("hello [job_id=orch-2 intent=ssh.exec]")


def test_a_configured_secret_is_scrubbed_from_any_log_line_even_a_traceback():
    clean = redaction(Settings(n8n_webhook_secret=SecretStr("n8n-shared-secret")))
    log = logging.getLogger("gpt_orchestrator.test")
    for formatter in (JsonFormatter(clean), TextFormatter(clean)):
        with captured("gpt_orchestrator.test", formatter) as stream:
            log.warning("n8n said: wrong secret n8n-shared-secret", extra={"body": {"echo": "n8n-shared-secret"}})
            try:
                raise RuntimeError("peer echoed n8n-shared-secret")
            except RuntimeError:
                log.exception("failed")
        text = stream.getvalue()
        assert "n8n-shared-secret" not in text and text.count("[redacted]") >= 3, text
