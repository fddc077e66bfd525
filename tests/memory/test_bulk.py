"""Bulk loading: memory.write_batch writes many memories in one job, and `gpt-orchestrator memory import`
loads a JSONL file through such jobs. Both are idempotent: writing the same again changes nothing."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from activities.embeddings import HashEmbedder
from activities.memory import MemoryStore
from tests.memory.test_memory import search
from tests.support.stack import isolated_stack
from worker.memory_import import import_file, render

CLI = str(Path(sys.executable).parent / "gpt-orchestrator")


async def stored_ids(settings) -> set[str]:
    space = await MemoryStore(settings, HashEmbedder()).space()
    return set(space.collection.get(include=[])["ids"])


async def test_a_batch_written_twice_is_stored_once(client, settings, tmp_path):
    items = [
        {"text": "Deploys happen on Thursdays", "tags": ["ops"]},
        {"text": "The standup is at 9:30"},
        {"text": "The standup is at 9:30"},
    ]
    async with isolated_stack(client, settings, data_dir=tmp_path, chroma_collection="batch") as (http, local):
        first = await http.post("/orchestrate", json={"intent": "memory.write_batch", "inputs": {"items": items}})
        # Another job (other inputs) holding the same items again: the same ids, upserted.
        second = await http.post(
            "/orchestrate", json={"intent": "memory.write_batch", "inputs": {"items": items[::-1]}}
        )
        hits = await search(http, "when do deploys happen", tags=["ops"])
        ids = await stored_ids(local)

    assert first.status_code == second.status_code == 200, first.text
    a, b = first.json()["result"], second.json()["result"]
    assert a["written"] == 2 and a["ids"][1] == a["ids"][2]
    assert b["ids"] == a["ids"][::-1] and b["written"] == 0  # all there already: nothing rewritten
    assert ids == set(a["ids"])
    assert hits[0]["text"] == "Deploys happen on Thursdays"


async def test_import_a_jsonl_file_twice_and_find_what_it_held(client, settings, tmp_path):
    lines = [{"text": f"Server rack {i} sits in room {i % 7}", "tags": ["inventory"]} for i in range(120)]
    file = tmp_path / "memories.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    async with isolated_stack(client, settings, data_dir=tmp_path / "data", chroma_collection="import") as (
        http,
        local,
    ):
        first = await import_file(client, local, file, batch_size=50)
        again = await import_file(client, local, file, batch_size=32)  # other batches, same memories
        hits = await search(http, "Server rack 42", k=1)
        ids = await stored_ids(local)

    assert first.ok and again.ok, first.problems + again.problems
    assert (first.batches, len(first.ids)) == (3, 120)
    assert again.ids == first.ids == ids
    assert hits[0]["text"] == "Server rack 42 sits in room 0"
    assert "120 lines -> 120 memories in 3 batches" in render(first, file)


async def test_a_bad_line_is_named_and_nothing_is_imported(client, settings, tmp_path):
    file = tmp_path / "bad.jsonl"
    file.write_text('{"text": "fine"}\n{"text": "   "}\nnot json\n{"text": "x", "colour": "red"}\n')
    report = await import_file(client, settings, file)

    assert report.batches == 0 and not report.ids
    text = render(report, file)
    assert f"{file}:2: text: Value error, text must not be blank" in text
    assert f"{file}:3: not JSON" in text
    assert f"{file}:4: colour: Extra inputs are not permitted" in text
    assert text.endswith("nothing was imported")


def test_the_cli_refuses_a_bad_file_before_contacting_anything(tmp_path):
    file = tmp_path / "bad.jsonl"
    file.write_text('{"text": "fine"}\n{"tags": ["no text"]}\n')
    env = {**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:9", "DATA_DIR": str(tmp_path)}  # nothing listens there
    done = subprocess.run([CLI, "memory", "import", str(file)], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert f"{file}:2: text: Field required" in done.stderr and "nothing was imported" in done.stderr


async def test_the_cli_imports_through_the_workers(client, settings, tmp_path):
    file = tmp_path / "memories.jsonl"
    file.write_text(
        "".join(json.dumps({"text": f"Printer {i} is on floor {i}", "tags": ["office"]}) + "\n" for i in range(10))
    )
    async with isolated_stack(client, settings, data_dir=tmp_path / "data", chroma_collection="cli") as (http, local):
        env = {**os.environ, "TEMPORAL_ADDRESS": local.temporal_address, "TASK_QUEUE": local.task_queue}
        done = await asyncio.to_thread(
            subprocess.run,
            [CLI, "memory", "import", "--quiet", str(file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        hits = await search(http, "Printer 7", k=1, tags=["office"])

    assert done.returncode == 0, done.stderr
    assert "10 lines -> 10 memories in 1 batches" in done.stdout
    assert hits[0]["text"] == "Printer 7 is on floor 7"
