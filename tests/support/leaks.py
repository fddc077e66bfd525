"""Where a secret could end up after a peer echoed it, and an observer that looks in every one of them.

`everything_about(job)` gathers what a client, an operator or an auditor can read about a job: the
HTTP answers, GET /jobs/{id}, the full Temporal history of the job's workflow and of every child it
started (payloads decoded: history JSON holds them base64-encoded), and the log lines captured while
it ran. `leaks(secret, text)` looks there for the secret in every form `scrub` knows.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

from temporalio.client import Client

from infra.logs import JsonFormatter, Redaction
from policies.redact import encodings


def leaks(secret: str, text: str) -> list[str]:
    """The forms of `secret` (itself, URL-encoded, base64, JSON-escaped) found in `text`."""
    return sorted(form for form in encodings(secret) if form in text)


async def history_text(client: Client, workflow_id: str, _seen: set[str] | None = None) -> str:
    """The workflow's full history as JSON, its decoded payloads, and the same for each child workflow."""
    seen = _seen if _seen is not None else set()
    if workflow_id in seen:
        return ""
    seen.add(workflow_id)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    raw = history.to_json()
    parts = [raw, *_decoded_payloads(json.loads(raw))]
    for event in history.events:
        if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            child = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            parts.append(await history_text(client, child, seen))
    return "\n".join(parts)


def _decoded_payloads(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    yield base64.b64decode(value).decode("utf-8", errors="replace")
            else:
                yield from _decoded_payloads(value)
    elif isinstance(node, list):
        for value in node:
            yield from _decoded_payloads(value)


# Loggers that can carry a peer's words: the SDK's activity logger (its "Completing activity as failed"
# line carries the traceback), our own, and the HTTP/MCP/SSH clients. temporalio.worker and the workflow
# loggers keep their level: they log from inside the workflow sandbox, where a handler that imports lazily
# (rich's, which FastMCP installs on the root logger) breaks the workflow task.
PEER_LOGGERS = ("temporalio.activity", "gpt_orchestrator", "activities", "httpx", "httpcore", "mcp", "asyncssh")


@contextlib.contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every line those loggers write while the block runs (DEBUG and up), formatted WITHOUT any
    redaction, so what it shows is what the code itself logged (the formatter's scrubbing is a
    separate, last defence)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redaction()))
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in PEER_LOGGERS]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
