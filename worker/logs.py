"""Process-wide logging set-up for the CLI entry points."""

from __future__ import annotations

import logging


def setup(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; URLs can carry tokens in query strings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
