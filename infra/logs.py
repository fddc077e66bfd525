"""Process logging: one JSON object per line (or plain text) carrying job_id, workflow_id and intent.

Where those fields come from:
- the gateway opens a `log_context()` per request and its routes `bind()` the job once known;
- the worker opens one per activity (worker/log_context.py), so any library logging inside it is tagged;
- temporalio's `activity.logger` / `workflow.logger` attach `temporal_activity` / `temporal_workflow`
  dicts to each record; the formatters read them too.
Secrets: the rules live in policies/redact.py, which config may not import, so the process installs
them at start-up (`install_redaction`, done by worker/logs.py for every CLI command): values under
secret-looking keys are masked, and every configured secret value is scrubbed from the whole formatted
line (message, fields, traceback) as a last line of defence. SecretStr renders as `**********`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import temporalio.activity
import temporalio.workflow
from pydantic import SecretStr

# Order of the job fields in every line, so lines of one job read the same in any log viewer.
JOB_FIELDS = ("job_id", "workflow_id", "run_id", "intent", "workflow_type", "activity", "attempt")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
_NOT_FIELDS = {"temporal_workflow", "temporal_activity", "color_message"}  # read above / uvicorn's ANSI copy


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Redaction:
    """How a log line is cleaned. `fields`: the line's fields (a dict) with values under secret-looking
    keys masked; `text`: the formatted line with every configured secret value scrubbed."""

    fields: Callable[[dict[str, Any]], dict[str, Any]] = _unchanged
    text: Callable[[str], str] = _unchanged


_installed = Redaction()


def install_redaction(redaction: Redaction) -> None:
    """Every formatter built without its own Redaction uses this one from now on."""
    global _installed
    _installed = redaction


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
        fields |= {
            "workflow_id": wf.get("workflow_id"),
            "run_id": wf.get("run_id"),
            "workflow_type": wf.get("workflow_type"),
        }
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


def _plain(value: Any) -> Any:
    """SecretStr as its mask, whatever redaction is installed."""
    if isinstance(value, SecretStr):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Redacting(logging.Formatter):
    def __init__(self, fmt: str | None = None, redaction: Redaction | None = None) -> None:
        super().__init__(fmt)
        self._redaction = redaction

    @property
    def redaction(self) -> Redaction:
        return self._redaction or _installed


class JsonFormatter(_Redacting):
    """One JSON object per line: ts, level, logger, message, the job fields, then any `extra=`."""

    def __init__(self, redaction: Redaction | None = None) -> None:
        super().__init__(redaction=redaction)

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
        line = _plain(self.redaction.fields(line))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self.redaction.text(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(_Redacting):
    """Human lines; the job fields of the log context trail in brackets."""

    def __init__(self, redaction: Redaction | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", redaction)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _plain(self.redaction.fields(current()))
        tags = " ".join(f"{k}={context[k]}" for k in JOB_FIELDS if k in context)
        return self.redaction.text(f"{text} [{tags}]" if tags else text)


def formatter(fmt: str, redaction: Redaction | None = None) -> logging.Formatter:
    return JsonFormatter(redaction) if fmt == "json" else TextFormatter(redaction)


def setup(level: str = "INFO", fmt: str = "text", redaction: Redaction | None = None) -> None:
    """Log to stderr in `fmt`; with `redaction`, install it for every formatter (this one included)."""
    if redaction is not None:
        install_redaction(redaction)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # temporalio appends its info dict to every message; JSON lines carry those fields as keys already.
    temporalio.activity.logger.activity_info_on_message = fmt != "json"
    temporalio.workflow.logger.workflow_info_on_message = fmt != "json"
    # httpx logs every request URL at INFO; URLs can carry tokens in query strings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
