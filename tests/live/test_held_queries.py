"""Temporal may hold a query: in `make bench` (stream_latency), a just-started job's first query, sent
while its first workflow task was in flight, took 1-1.3 s in half the rounds, and every step recorded
meanwhile reached the stream late (p99 0.4-0.8 s). The gateway does not wait for a held read: a watch
asks again alongside when the history shows the workflow moved on, and every other read of a workflow's
state (snapshots, GET /jobs, GPT workflow status) asks again after 0.1 s and 0.3 s; the first answer wins.

The reads here are scripted (holding a query on purpose depends on the server's timing); the live tests
next to this one stream real jobs through the same code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from gateway.lifecycle import HedgeBudget, first_answer
from gateway.schemas import JobKindName
from gateway.streams import JobWatch, WatchedJob
from workflows.progress import EventType, ProgressEvent, ProgressPage


def step(seq: int, state: str) -> ProgressEvent:
    return ProgressEvent(
        seq=seq, type=EventType.STEP, at=datetime.now(UTC), data={"step_id": f"s{seq}", "state": state}
    )


class ScriptedWatch(JobWatch):
    """A watch whose log reads answer from `log` (the workflow's progress log), the first one held;
    `failing` lists reads (1 = the first) that fail instead, `cancelled_reads` ones that end cancelled."""

    def __init__(self, failing: tuple[int, ...] = (), cancelled_reads: tuple[int, ...] = ()) -> None:
        super().__init__(client=None, job=WatchedJob("job-1", "job-1", JobKindName.GPT_WORKFLOW), max_result_chars=1000)  # type: ignore[arg-type]
        self.log: list[ProgressEvent] = []
        self.held = asyncio.Event()
        self.reads, self.cancelled = 0, 0
        self.failing, self.cancelled_reads = failing, cancelled_reads

    async def query(self, after: int, *, with_state: bool = False) -> ProgressPage:
        self.reads += 1
        events = [e for e in self.log if e.seq > after]  # the log as it is when the read is sent
        if self.reads in self.failing:
            raise RuntimeError("the query failed (no worker answered)")
        if self.reads in self.cancelled_reads:
            raise asyncio.CancelledError
        if self.reads == 1:
            try:
                await self.held.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return ProgressPage(first_seq=1, last_seq=len(self.log), events=events)


async def test_a_held_first_read_does_not_hold_back_the_steps_recorded_after_it():
    watch = ScriptedWatch()
    refresher = asyncio.create_task(watch._refresher())
    try:
        watch._dirty.set()  # the watch starts: its first read is held
        await asyncio.sleep(0.05)
        assert watch.events == [] and watch.reads == 1

        watch.log += [step(1, "started"), step(2, "succeeded")]
        watch._dirty.set()  # the history shows a workflow task completed
        async with asyncio.timeout(1):
            while watch.last_seq < 2:
                await asyncio.sleep(0.01)
        assert [e.seq for e in watch.events] == [1, 2]
        assert watch.cancelled == 1, "the held read is superseded by the answer after it"

        watch.log.append(step(3, "succeeded"))
        watch._dirty.set()
        async with asyncio.timeout(1):
            while watch.last_seq < 3:
                await asyncio.sleep(0.01)
        assert [e.seq for e in watch.events] == [1, 2, 3], "each event once, in order"
    finally:
        refresher.cancel()


async def caught_up(watch: ScriptedWatch, seq: int) -> None:
    async with asyncio.timeout(2):
        while watch.last_seq < seq:
            await asyncio.sleep(0.01)


async def test_when_the_read_after_a_held_one_fails_the_held_ones_late_answer_does_not_end_the_matter():
    watch = ScriptedWatch(failing=(2,))
    refresher = asyncio.create_task(watch._refresher())
    try:
        watch._dirty.set()  # read 1: held, sent while the log was empty
        await asyncio.sleep(0.02)
        watch.log += [step(1, "started"), step(2, "succeeded")]
        watch._dirty.set()  # read 2, for the new steps: fails
        await asyncio.sleep(0.02)
        watch.held.set()  # read 1 answers, with the log as it was: nothing
        await caught_up(watch, 2)  # the watch reads again (its retry), unprompted
        assert [e.seq for e in watch.events] == [1, 2]
    finally:
        refresher.cancel()


async def test_a_read_that_ends_cancelled_does_not_end_the_watch():
    watch = ScriptedWatch(cancelled_reads=(1,))
    refresher = asyncio.create_task(watch._refresher())
    try:
        watch.log.append(step(1, "succeeded"))
        watch._dirty.set()
        await caught_up(watch, 1)  # read 1 ended cancelled; the retry read the step
        assert not refresher.done()
        watch.log.append(step(2, "succeeded"))
        watch._dirty.set()
        await caught_up(watch, 2)
    finally:
        refresher.cancel()


async def test_a_snapshot_asks_again_when_its_query_is_held_and_takes_the_first_answer():
    held, asked = asyncio.Event(), []

    async def ask() -> str:
        asked.append(len(asked))
        if len(asked) == 1:
            await held.wait()
            return "late"
        return "answer"

    started = asyncio.get_running_loop().time()
    assert await first_answer(ask, (0.05, 0.2), HedgeBudget()) == "answer"
    assert asked == [0, 1] and asyncio.get_running_loop().time() - started < 0.2


async def test_a_prompt_answer_is_asked_for_once():
    asked = []

    async def ask() -> int:
        asked.append(1)
        return 7

    assert await first_answer(ask, (0.05, 0.2), HedgeBudget()) == 7
    await asyncio.sleep(0.1)
    assert asked == [1]


async def test_an_ask_that_ends_cancelled_is_a_failure_not_a_cancellation_of_the_caller():
    async def ask() -> None:
        raise asyncio.CancelledError

    with pytest.raises(RuntimeError, match="cancelled"):
        await first_answer(ask, (0.05,), HedgeBudget())


async def test_when_every_ask_fails_the_last_failure_is_raised():
    asked = []

    async def ask() -> None:
        asked.append(1)
        await asyncio.sleep(0.02 if len(asked) == 1 else 0.01)
        raise LookupError(f"no worker ({len(asked)})")

    with pytest.raises(LookupError, match="no worker"):
        await first_answer(ask, (0.01, 0.02), HedgeBudget())
    assert 1 <= len(asked) <= 3


async def test_a_worker_too_busy_to_answer_quickly_is_not_asked_every_query_three_times():
    """Asking again is budgeted: extra asks stay under a tenth of the first ones, after a small burst."""
    budget = HedgeBudget(share=0.1, burst=2)
    asked = []

    async def slow() -> str:
        asked.append(1)
        await asyncio.sleep(0.08)  # every query slower than the first re-ask at 0.02 s
        return "answer"

    for _ in range(12):
        assert await first_answer(slow, (0.02, 0.04), budget) == "answer"
    extra = len(asked) - 12
    assert 2 <= extra <= 4, f"{extra} extra asks for 12 queries: the burst (2), then one per 10 queries"
