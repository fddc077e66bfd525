"""Schedule fixtures: an isolated stack (own worker and gateway), and clean-up of every schedule a test made."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.service import RPCError

from tests.support.stack import isolated_stack


@pytest.fixture
async def made(client) -> AsyncIterator[list[str]]:
    """Ids of schedules a test creates; deleted afterwards, so none keeps running into later tests."""
    ids: list[str] = []
    yield ids
    for schedule_id in ids:
        with contextlib.suppress(RPCError):
            await client.get_schedule_handle(schedule_id).delete()


@pytest.fixture
async def sched_api(client, settings) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated_stack(client, settings) as (http, _):
        yield http


async def create(http: httpx.AsyncClient, made: list[str], body: dict) -> dict:
    resp = await http.post("/schedules", json=body)
    assert resp.status_code == 201, resp.text
    made.append(resp.json()["schedule_id"])
    return resp.json()


async def wait_for(http: httpx.AsyncClient, schedule_id: str, check, *, timeout: float = 30, what: str = "") -> dict:
    """Poll GET /schedules/{id} until check(view) holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        resp = await http.get(f"/schedules/{schedule_id}")
        assert resp.status_code == 200, resp.text
        view = resp.json()
        if check(view):
            return view
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}: {view}"
        await asyncio.sleep(0.25)


def finished(view: dict) -> list[dict]:
    return [r for r in view["recent_runs"] if r["status"] == "success"]
