"""Process logging: one JSON object per line (or plain text) carrying job_id, workflow_id and intent.

Where those fields come from:
- the gateway opens a `log_context()` per request and its routes `bind()` the job once known;
- the worker opens one per activity (worker/log_context.py), so any library logging inside it is tagged;
- temporalio's `activity.logger` / `workflow.logger` attach `temporal_activity` / `temporal_workflow`
  dicts to each record; the formatters read them too.
Secrets: values under secret-looking keys are masked, and SecretStr renders as `**********`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import temporalio.activity
import temporalio.workflow
from pydantic import SecretStr

# Order of the job fields in every line, so lines of one job read the same in any log viewer.
JOB_FIELDS = ("job_id", "workflow_id", "run_id", "intent", "workflow_type", "activity", "attempt")
SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|private|cookie", re.I)
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
_NOT_FIELDS = {"temporal_workflow", "temporal_activity", "color_message"}  # read above / uvicorn's ANSI copy

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("log_context", default=None)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Tag every record logged inside this block (and in tasks it starts) with `fields`."""
    scope = {**(_context.get() or {}), **_present(fields)}
    token = _context.set(scope)
    try:
        yield scope
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the enclosing `log_context()`. It mutates that scope's dict on purpose, so a line
    the scope logs when it closes (the gateway's access line) sees what a route learned inside it."""
    scope = _context.get()
    if scope is not None:
        scope.update(_present(fields))


def current() -> dict[str, Any]:
    return dict(_context.get() or {})


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _temporal_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(wf := getattr(record, "temporal_workflow", None), dict):
        fields |= {"workflow_id": wf.get("workflow_id"), "run_id": wf.get("run_id"), "workflow_type": wf.get("workflow_type")}
    if isinstance(act := getattr(record, "temporal_activity", None), dict):
        fields |= {
            "workflow_id": act.get("workflow_id"),
            "run_id": act.get("workflow_run_id"),
            "workflow_type": act.get("workflow_type"),
            "activity": act.get("activity_type"),
            "attempt": act.get("attempt"),
        }
    if fields.get("workflow_id"):
        fields["job_id"] = fields["workflow_id"]  # a job *is* a workflow: the gateway uses the ID as job_id
    return _present(fields)


def job_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The job this record belongs to: temporalio's extras, then the log context (which knows the intent)."""
    merged = _temporal_fields(record) | current()
    return {k: merged[k] for k in JOB_FIELDS if k in merged} | {k: v for k, v in merged.items() if k not in JOB_FIELDS}


def _safe(key: str, value: Any) -> Any:
    if SECRET_KEY.search(key):
        return "***"
    if isinstance(value, SecretStr):
        return str(value)
    if isinstance(value, dict):
        return {k: _safe(str(k), v) for k, v in value.items()}
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the job fields, then any `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= job_fields(record)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in _NOT_FIELDS and key not in line:
                line[key] = value
        line = {k: _safe(k, v) for k, v in line.items()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human lines; the job fields of the log context trail in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = current()
        tags = " ".join(f"{k}={_safe(k, context[k])}" for k in JOB_FIELDS if k in context)
        return f"{text} [{tags}]" if tags else text


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def setup(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # temporalio appends its info dict to every message; JSON lines carry those fields as keys already.
    temporalio.activity.logger.activity_info_on_message = fmt != "json"
    temporalio.workflow.logger.workflow_info_on_message = fmt != "json"
    # httpx logs every request URL at INFO; URLs can carry tokens in query strings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
