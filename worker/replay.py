"""Replay recorded histories against the current workflow code: proof that a change cannot break runs
already in flight (`gpt-orchestrator replay`, the golden-history tests, CI).

Histories come from files in the `temporal workflow show --output json` format (also what the Web UI
downloads), or straight from the server by a visibility query (the last N closed runs). Every workflow
type the worker hosts is registered, with the same data converter and interceptors, so replay sees
exactly what a worker would.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime, TelemetryConfig
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from config import Settings
from infra.temporal import connect
from intents import registry
from worker import registration
from worker.log_context import JobLogContext

OK, NONDETERMINISM, FAILED = "ok", "NONDETERMINISM", "FAILED"


@dataclass(frozen=True)
class ReplayResult:
    source: str  # file path, or "server"
    workflow_id: str
    run_id: str
    workflow_type: str
    events: int
    outcome: str  # OK | NONDETERMINISM | FAILED
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def line(self) -> str:
        what = f"{self.workflow_id} ({self.workflow_type}, {self.events} events) from {self.source}"
        return f"{self.outcome:<14} {what}" + (f": {self.reason}" if self.reason else "")


def history_file(path: Path) -> WorkflowHistory:
    """One `temporal workflow show --output json` file; the file name stands in for the workflow ID,
    which that format does not carry."""
    return WorkflowHistory.from_json(path.stem, path.read_text())


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory means every *.json in it (e.g. tests/histories/)."""
    found: list[Path] = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.json")) if p.is_dir() else [p]
    return found


def _workflow_type(history: WorkflowHistory) -> str:
    if not history.events:
        return "?"
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name or "?"


# The core wraps the useful sentence in a Rust debug dump: `Failure { failure: Some(Failure { message: "..." ...`.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


def _outcome(error: Exception | None) -> tuple[str, str | None]:
    if error is None:
        return OK, None
    found = _CORE_MESSAGE.search(str(error))
    reason = found.group(1).replace('\\"', '"') if found else str(error)
    if isinstance(error, NondeterminismError):
        return NONDETERMINISM, reason
    return FAILED, f"{type(error).__name__}: {reason}"


@lru_cache(maxsize=1)
def quiet_runtime() -> Runtime:
    """A runtime without core console logs (a runtime owns threads: one per process)."""
    return Runtime(telemetry=TelemetryConfig(logging=None))


def replayer(workflows: Sequence[type] | None = None) -> Replayer:
    return Replayer(
        workflows=list(registration.workflow_types() if workflows is None else workflows),
        data_converter=pydantic_data_converter,
        interceptors=[JobLogContext()],
        runtime=quiet_runtime(),  # the core would print each failure again, into stdout's report
    )


async def replay_histories(
    histories: AsyncIterator[tuple[str, WorkflowHistory]], *, workflows: Sequence[type] | None = None
) -> list[ReplayResult]:
    """Replay (source, history) pairs in order; never raises for a bad history, reports it."""
    sources: list[str] = []

    async def only_histories() -> AsyncIterator[WorkflowHistory]:
        async for source, history in histories:
            sources.append(source)
            yield history

    results: list[ReplayResult] = []
    async with replayer(workflows).workflow_replay_iterator(only_histories()) as replayed:
        async for item in replayed:
            outcome, reason = _outcome(item.replay_failure)
            history = item.history
            results.append(
                ReplayResult(
                    source=sources[len(results)],
                    workflow_id=history.workflow_id,
                    run_id=history.run_id,
                    workflow_type=_workflow_type(history),
                    events=len(history.events),
                    outcome=outcome,
                    reason=reason,
                )
            )
    return results


async def replay_files(paths: Iterable[str | Path], *, workflows: Sequence[type] | None = None) -> list[ReplayResult]:
    """Replay history files (directories expand to their *.json). An unreadable file is a FAILED result."""
    results: list[ReplayResult] = []
    readable: list[tuple[str, WorkflowHistory]] = []
    for path in expand(paths):
        try:
            readable.append((str(path), history_file(path)))
        except Exception as exc:  # noqa: BLE001 - a broken file is reported like a broken replay
            results.append(ReplayResult(str(path), path.stem, "", "?", 0, FAILED, f"unreadable history: {exc}"))

    async def pairs() -> AsyncIterator[tuple[str, WorkflowHistory]]:
        for pair in readable:
            yield pair

    return results + (await replay_histories(pairs(), workflows=workflows) if readable else [])


def closed_runs_query(query: str | None) -> str:
    closed = "ExecutionStatus != 'Running'"
    return f"({query}) AND {closed}" if query else closed


async def replay_from_server(
    client: Client, query: str | None, *, limit: int = 10, workflows: Sequence[type] | None = None
) -> list[ReplayResult]:
    """Replay the last `limit` closed runs matching a visibility query (e.g. "Intent='memory.write'")."""

    async def pairs() -> AsyncIterator[tuple[str, WorkflowHistory]]:
        async for history in client.list_workflows(closed_runs_query(query), limit=limit).map_histories():
            yield "server", history

    return await replay_histories(pairs(), workflows=workflows)


def exit_code(results: Sequence[ReplayResult]) -> int:
    """0: every history replayed; 1: at least one did not; 2: there was nothing to replay."""
    if not results:
        return 2
    return 0 if all(r.ok for r in results) else 1


def run_replay(settings: Settings, *, files: Sequence[str], query: str | None, limit: int) -> int:
    """`gpt-orchestrator replay`: one line per history on stdout, then the exit code."""
    # The IntentWorkflow routes by the registry, so user intents must be registered as on the worker.
    registry.load_extra_modules(settings.extra_intent_modules)

    async def main() -> list[ReplayResult]:
        results = await replay_files(files) if files else []
        if query is not None:
            results += await replay_from_server(await connect(settings), query, limit=limit)
        return results

    if not files and query is None:
        print("nothing to replay: give history files or --query", file=sys.stderr)
        return 2
    results = asyncio.run(main())
    for result in results:
        print(result.line(), flush=True)
    failed = sum(not r.ok for r in results)
    summary = f"{len(results) - failed}/{len(results)} replayed ok" if results else "no histories matched"
    print(summary, file=sys.stderr)
    return exit_code(results)
