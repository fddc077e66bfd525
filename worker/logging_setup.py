"""Process-wide logging set-up for the CLI entry points (the formatters live in infra/logs.py).

The redaction rules live in policies/redact.py, which config/ may not import: they are installed into
the formatters here, at start-up, with the configured secrets of this process.
"""

from __future__ import annotations

from activities.redaction import configured_secrets
from config import Settings
from infra import logs
from policies.redact import redact_keys, scrubber

# Long-running services feed log pipelines (one JSON object per line); a person reads the others.
JSON_BY_DEFAULT = {"gateway", "worker"}


def log_format(settings: Settings, command: str) -> str:
    return settings.log_format or ("json" if command in JSON_BY_DEFAULT else "text")


def redaction(settings: Settings) -> logs.Redaction:
    """Values under secret-looking keys masked; every configured secret value scrubbed from the line."""
    return logs.Redaction(fields=redact_keys, text=scrubber(configured_secrets(settings)).text)


def setup(settings: Settings, command: str) -> None:
    logs.setup(settings.log_level, log_format(settings, command), redaction(settings))
