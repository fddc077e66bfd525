"""`gpt-orchestrator reset-point JOB_ID`: where `temporal workflow reset` should restart a failed run so
that it re-runs the step that failed and keeps every step that already succeeded.

That point is the workflow task that scheduled the first failed (or timed-out) activity: resetting to
it replays everything before from history, then makes that decision again with today's code and
today's world (a fixed endpoint, a raised limit).
"""

from __future__ import annotations

import asyncio
import sys

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from config import Settings
from infra.temporal import connect


async def reset_point(client: Client, workflow_id: str) -> int:
    events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
    by_id = {e.event_id: e for e in events}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            scheduled = event.activity_task_failed_event_attributes.scheduled_event_id
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            scheduled = event.activity_task_timed_out_event_attributes.scheduled_event_id
        else:
            continue
        return by_id[scheduled].activity_task_scheduled_event_attributes.workflow_task_completed_event_id
    raise LookupError(f"{workflow_id}: no failed or timed-out step in its latest run")


def run_reset_point(settings: Settings, workflow_id: str) -> int:
    async def main() -> int:
        try:
            print(await reset_point(await connect(settings), workflow_id))
            return 0
        except LookupError as exc:
            print(exc, file=sys.stderr)
            return 1

    return asyncio.run(main())
