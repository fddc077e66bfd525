"""Reading a job's event stream as a client would: httpx-sse (a real SSE parser) over a real connection."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse


@dataclass
class Event:
    event: str
    id: str
    data: dict[str, Any]

    @property
    def key(self) -> tuple[int, int]:
        """The id as (seq, minor), for ordering: `7` is (7, 0), `7.120` is (7, 120)."""
        seq, _, minor = self.id.partition(".")
        return int(seq), int(minor or 0)


async def read_events(http: httpx.AsyncClient, path: str, *, until: str = "done", stop_after=None,
                      last_event_id: str | None = None, timeout: float = 60) -> list[Event]:  # fmt: skip
    """Events of one connection, until `until` arrives (or `stop_after(events)` says enough: we hang up)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[Event] = []
    async with asyncio.timeout(timeout):
        async with aconnect_sse(http, "GET", path, headers=headers, timeout=httpx.Timeout(timeout, read=30)) as source:
            assert source.response.status_code == 200, await source.response.aread()
            assert source.response.headers["content-type"].startswith("text/event-stream")
            async for sse in source.aiter_sse():
                events.append(Event(sse.event, sse.id, json.loads(sse.data)))
                if sse.event == until or (stop_after is not None and stop_after(events)):
                    break
    return events


def durable(events: list[Event]) -> list[Event]:
    """The log's own events (step, approval, usage), whose ids are sequence numbers."""
    return [e for e in events if e.event in ("step", "approval", "usage")]


def steps(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.data["step_id"], e.data["state"]) for e in events if e.event == "step"]
