"""The Web UI's "Current Details" at close: final words, not the last step's progress.

`workflow.set_current_details` is no command (the UI reads it through a query), so setting it at close
changes no history and every recorded history still replays.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import is_cancelled_exception

# Raised out of a run: these end it (BaseExceptions such as an eviction are the SDK's, and left alone).
CLOSING = (Exception, asyncio.CancelledError)


def succeeded(started: datetime, extra: str = "") -> None:
    ms = int((workflow.now() - started).total_seconds() * 1000)
    workflow.set_current_details(f"succeeded in {ms} ms{extra}")


def ended_by(err: BaseException) -> None:
    """ "cancelled", or "failed: <error type>"."""
    if isinstance(err, asyncio.CancelledError) or is_cancelled_exception(err):
        workflow.set_current_details("cancelled")
    else:
        workflow.set_current_details(f"failed: {getattr(err, 'type', None) or type(err).__name__}")
