"""Process-wide logging set-up for the CLI entry points (the formatters live in config/logs.py)."""

from __future__ import annotations

from config import Settings
from config import logs

# Long-running services feed log pipelines (one JSON object per line); a person reads the others.
JSON_BY_DEFAULT = {"gateway", "worker"}


def log_format(settings: Settings, command: str) -> str:
    return settings.log_format or ("json" if command in JSON_BY_DEFAULT else "text")


def setup(settings: Settings, command: str) -> None:
    logs.setup(settings.log_level, log_format(settings, command))
