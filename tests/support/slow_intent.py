"""A test-only intent loaded through EXTRA_INTENT_MODULES (the same hook users have for their own intents).

`test.slow` sleeps while heartbeating and appends one line per attempt to a marker file, so a test can
see which process ran which attempt, and whether a cancellation reached the activity (`cancelled ...`).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import activity

from intents import registry
from intents.spec import IntentSpec, Mode, RetrySpec


class SlowInput(BaseModel):
    seconds: float = Field(ge=0, le=60)
    marker: str


class SlowOutput(BaseModel):
    pid: int
    attempt: int


@activity.defn(name="test.slow")
async def slow(inp: SlowInput) -> SlowOutput:
    info = activity.info()
    with open(inp.marker, "a") as f:
        f.write(f"start pid={os.getpid()} attempt={info.attempt}\n")
    activity.logger.info("sleeping %ss", inp.seconds)
    loop = asyncio.get_running_loop()
    end = loop.time() + inp.seconds
    try:
        while loop.time() < end:
            activity.heartbeat()
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:  # delivered through the heartbeat
        with open(inp.marker, "a") as f:
            f.write(f"cancelled pid={os.getpid()} attempt={info.attempt}\n")
        raise
    with open(inp.marker, "a") as f:
        f.write(f"done pid={os.getpid()} attempt={info.attempt}\n")
    return SlowOutput(pid=os.getpid(), attempt=info.attempt)


SPEC = registry.register(
    IntentSpec(
        name="test.slow",
        mode=Mode.WORKER,
        description="Test only: sleep while heartbeating.",
        input_model=SlowInput,
        output_model=SlowOutput,
        activity="test.slow",
        read_only=True,
        timeout=timedelta(seconds=60),
        heartbeat_timeout=timedelta(seconds=1),
        retry=RetrySpec(max_attempts=5, initial_interval_s=0.1),
    ),
    replace=True,
)


def activities(settings) -> list:
    return [slow]
