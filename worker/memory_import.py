"""`gpt-orchestrator memory import FILE.jsonl`: bulk loading through `memory.write_batch` jobs.

One JSON object a line: `{"text": "...", "tags": ["..."], "speaker_id": "..."}` (tags and speaker_id
optional; the fields of memory.write). The whole file is validated first: a bad line is named with its
field and nothing is started. Then the lines go out in batches (at most `--batch-size` memories and
MAX_BATCH_TEXT_BYTES of text each), each one job started by the gateway's own start path
(gateway.calls.start_intent: the same job ID for the same batch, search attributes, summary, the
tenant's fairness key), as the admin principal `cli:memory-import` of `--tenant`, a few at a time.

Idempotent twice over: a re-run starts no new job for a batch that already succeeded (same job ID),
and each memory's id is derived from its content, so any re-import (other batch sizes, a file that
grew) upserts the same ids instead of duplicating them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client

from config import Settings
from config.api_keys import DEFAULT_TENANT, Role
from gateway.auth import Principal
from gateway.calls import start_intent
from intents.memory import MAX_BATCH_ITEMS, MAX_BATCH_TEXT_BYTES, MemoryWriteInput
from intents.routing import RoutingTable

INTENT = "memory.write_batch"
MAX_REPORTED_PROBLEMS = 20


@dataclass
class ImportReport:
    lines: int = 0
    batches: int = 0
    ids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_items(path: Path) -> tuple[list[MemoryWriteInput], list[str]]:
    items, problems = [], []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(MemoryWriteInput.model_validate(row))
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON ({exc.msg}, column {exc.colno})")
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "line"
                    problems.append(f"{path}:{number}: {where}: {err['msg']}")
    return items, problems


def batches(items: list[MemoryWriteInput], size: int) -> Iterator[list[MemoryWriteInput]]:
    batch: list[MemoryWriteInput] = []
    used = 0
    for item in items:
        n = len(item.text.encode())
        if batch and (len(batch) >= size or used + n > MAX_BATCH_TEXT_BYTES):
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += n
    if batch:
        yield batch


class _Temporal:
    def __init__(self, client: Client):
        self._client = client

    async def client(self) -> Client:
        return self._client


@dataclass
class _CliState:
    """What gateway.calls.start_intent reads from the gateway app's state, for jobs this command starts."""

    settings: Settings
    temporal: _Temporal
    routes: RoutingTable


async def write_batch(
    client: Client, settings: Settings, items: list[MemoryWriteInput], tenant: str = DEFAULT_TENANT
) -> list[str]:
    """One memory.write_batch job, started exactly as POST /orchestrate starts it (gateway.calls); returns the ids."""
    state = _CliState(settings, _Temporal(client), RoutingTable.with_overrides(settings.intent_routes))
    who = Principal(name="cli:memory-import", role=Role.ADMIN, tenant=tenant)
    job = await start_intent(state, who, INTENT, {"items": [item.model_dump(mode="json") for item in items]})
    outcome: Any = await job.handle.result()
    result = outcome.result if hasattr(outcome, "result") else outcome["result"]
    return list(result["ids"])


async def import_file(
    client: Client,
    settings: Settings,
    path: Path,
    *,
    batch_size: int = 500,
    concurrency: int = 4,
    tenant: str = DEFAULT_TENANT,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    started = time.perf_counter()
    items, problems = read_items(path)
    report.lines = len(items)
    if problems:
        report.problems = problems
        return report
    size = max(1, min(batch_size, MAX_BATCH_ITEMS))
    gate = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def one(batch: list[MemoryWriteInput]) -> None:
        nonlocal done
        async with gate:
            try:
                report.ids.update(await write_batch(client, settings, batch, tenant))
            except Exception as exc:  # reported, and the import goes on with the other batches
                report.problems.append(f"a batch of {len(batch)} failed: {type(exc).__name__}: {exc}")
                return
            done += len(batch)
            if progress is not None:
                progress(f"  {done}/{report.lines} memories written")

    chunks = list(batches(items, size))
    report.batches = len(chunks)
    await asyncio.gather(*(one(chunk) for chunk in chunks))
    report.seconds = time.perf_counter() - started
    return report


def render(report: ImportReport, path: Path) -> str:
    if report.problems and not report.ids:
        shown = report.problems[:MAX_REPORTED_PROBLEMS]
        more = len(report.problems) - len(shown)
        return "\n".join([*(f"error: {p}" for p in shown), *([f"error: … and {more} more"] if more else []),
                          f"memory import: {path}: nothing was imported"])  # fmt: skip
    rate = len(report.ids) / report.seconds if report.seconds else 0.0
    lines = [
        f"memory import: {path}: {report.lines} lines -> {len(report.ids)} memories "
        f"in {report.batches} batches, {report.seconds:.1f} s ({rate:.0f}/s)"
    ]
    lines += [f"error: {p}" for p in report.problems[:MAX_REPORTED_PROBLEMS]]
    return "\n".join(lines)
