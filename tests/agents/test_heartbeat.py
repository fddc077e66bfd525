"""with_heartbeats: a long await inside an activity stays visibly alive and stays cancellable."""

from __future__ import annotations

import asyncio

import pytest

from activities.heartbeat import with_heartbeats


async def test_a_long_wait_heartbeats_while_it_runs(activity_env):
    async def slow_call():
        await asyncio.sleep(0.35)
        return "done"

    async def activity_body():
        return await with_heartbeats(slow_call(), every_s=0.1, details=("step-1",))

    result = await activity_env.run(activity_body)
    assert result == "done"
    assert len(activity_env.heartbeats) == 3  # at 0.1, 0.2 and 0.3 s
    assert set(activity_env.heartbeats) == {("step-1",)}


async def test_a_quick_call_sends_no_heartbeat_at_all(activity_env):
    async def activity_body():
        return await with_heartbeats(asyncio.sleep(0.01, result="quick"), every_s=0.5)

    assert await activity_env.run(activity_body) == "quick"
    assert activity_env.heartbeats == []


async def test_cancelling_the_activity_cancels_the_awaited_work(activity_env):
    inner_cancelled = asyncio.Event()

    async def endless():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            inner_cancelled.set()
            raise

    async def activity_body():
        return await with_heartbeats(endless(), every_s=0.05)

    task = asyncio.ensure_future(activity_env.run(activity_body))
    await asyncio.sleep(0.1)
    activity_env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inner_cancelled.is_set()


async def test_errors_pass_through_and_outside_an_activity_it_just_awaits():
    async def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await with_heartbeats(broken())
    assert await with_heartbeats(asyncio.sleep(0, result=7)) == 7
