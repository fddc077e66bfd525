"""A stream is bounded: a quiet one sends a keep-alive comment every 15 s, none lives longer than
STREAM_MAX_S (the client reconnects and loses nothing), a gateway serves at most STREAM_MAX_CONCURRENT
at once, and a bad Last-Event-ID, an unknown job or a missing key is a plain JSON error."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from tests.gpt.helpers import chat, create
from tests.live.sse import read_events
from tests.support.stack import isolated_stack

WAITING = {"name": "Never executed", "steps": [chat("only", "Wanderweave", "hi")]}


async def test_a_quiet_stream_keeps_alive_and_ends_at_its_maximum_life(client, settings):
    async with isolated_stack(client, settings, stream_max_s=17) as (http, _):
        workflow_id = await create(http, WAITING)
        lines, started = [], time.monotonic()
        async with asyncio.timeout(60):  # a stream that outlives its maximum fails the test, never hangs it
            async with http.stream("GET", f"/jobs/{workflow_id}/events", timeout=httpx.Timeout(40)) as resp:
                assert resp.status_code == 200 and resp.headers["cache-control"] == "no-cache"
                async for line in resp.aiter_lines():
                    lines.append((round(time.monotonic() - started, 1), line))
        lasted = time.monotonic() - started
    comments = [(t, line) for t, line in lines if line.startswith(":")]
    assert comments and 14 <= comments[0][0] <= 17.5 and comments[0][1] == ": keep-alive", lines
    assert 16.5 <= lasted <= 25, "the stream ends at STREAM_MAX_S; EventSource reconnects with Last-Event-ID"
    assert [line for _, line in lines if line.startswith("event:")] == ["event: snapshot"]
    assert "retry: 1000" in [line for _, line in lines]


async def test_streams_are_capped_per_gateway_and_bad_requests_are_json_errors(client, settings):
    async with isolated_stack(client, settings, stream_max_concurrent=1) as (http, _):
        workflow_id = await create(http, WAITING)
        opened = asyncio.Event()
        first = asyncio.create_task(
            read_events(
                http, f"/jobs/{workflow_id}/events", until="never", stop_after=lambda evs: opened.set(), timeout=20
            )
        )
        async with asyncio.timeout(15):
            await opened.wait()  # the first stream is open (it has its snapshot) and stays open
        second = await http.get(f"/jobs/{workflow_id}/events", timeout=5)
        assert second.status_code == 503 and second.json()["error"]["type"] == "TooManyStreams"
        assert second.headers["retry-after"]
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first

        for value in ("xyz", "1.2.3", "-4", "9" * 40):
            bad = await http.get(f"/jobs/{workflow_id}/events", headers={"Last-Event-ID": value})
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "Last-Event-ID", bad.text
            # Not echoed. The answer names the job, whose id may hold "-4" or "9"s by chance: look past it.
            assert value not in bad.text.replace(workflow_id, "")
        unknown = await http.get("/jobs/orch-0000000000000000/events")
        assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "NotFound"
        not_a_fleet = await http.get(f"/api/gpt-fleets/runs/{workflow_id}/events")
        assert not_a_fleet.status_code == 404
        async with httpx.AsyncClient(base_url=str(http.base_url)) as anonymous:
            assert (await anonymous.get(f"/jobs/{workflow_id}/events")).status_code == 401
