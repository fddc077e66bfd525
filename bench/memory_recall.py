"""Offline recall: does memory.search find a memory from a question that paraphrases it?

bench/data/paraphrases.jsonl holds (question, memory) pairs written so that the question shares as few
words with its memory as possible ("Which foods must my child avoid?" -> "My daughter Emma is allergic
to peanuts."), plus distractor memories. Every memory is written to a fresh store (real embedded Chroma,
real lexical index), then each question is searched through memory.search's own ranking (the vector
ranking fused with BM25): recall@3 is the share of questions whose memory is in the top 3.
Printed per embedder, with search latency (p50/p99, embedding included) and the vector half alone.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from activities.embeddings import HashEmbedder, MiniLMEmbedder, WordLlamaEmbedder
from activities.memory import Memory, MemoryStore, content_id
from bench.common import summarize
from config import Settings
from intents.memory import DEFAULT_TENANT, MemoryWriteInput

DATA = Path(__file__).parent / "data" / "paraphrases.jsonl"
# A second, smaller set written separately (more everyday wording, some shared words), searched among
# its own memories and all of the first set's as distractors.
SECOND = Path(__file__).parent / "data" / "paraphrases_holdout.jsonl"


def load_pairs(path: Path = DATA) -> tuple[list[str], list[tuple[str, str]]]:
    memories, pairs = [], []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        memories.append(row["memory"])
        if "question" in row:
            pairs.append((row["question"], row["memory"]))
    return memories, pairs


async def measure(embedder, memories: list[str], pairs: list[tuple[str, str]], k: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), chroma_url=None)
        store = MemoryStore(settings, embedder)
        items = [Memory(id=content_id(DEFAULT_TENANT, MemoryWriteInput(text=m)), text=m, tags=[]) for m in memories]
        await store.upsert(DEFAULT_TENANT, items)
        ids = {m.text: m.id for m in items}
        space = await store.space()
        found = vector_found = 0
        latencies = []
        for question, memory in pairs:
            t0 = time.perf_counter()
            hits = await store.search(DEFAULT_TENANT, question, k)
            latencies.append(time.perf_counter() - t0)
            found += ids[memory] in [h.id for h in hits]
            [qvec] = await embedder.embed([question])
            vec = space.collection.query(query_embeddings=[qvec], n_results=k, include=["distances"])
            vector_found += ids[memory] in vec["ids"][0]
        return {"recall": found / len(pairs), "vector_recall": vector_found / len(pairs), **summarize(latencies)}


def embedders() -> dict:
    return {"hash": HashEmbedder(), "wordllama": WordLlamaEmbedder(), "minilm": MiniLMEmbedder()}


async def run() -> None:
    first_memories, first = load_pairs()
    second_memories, second = load_pairs(SECOND)
    sets = {
        "paraphrases": (first_memories, first),
        "second set": (second_memories + first_memories, second),
    }
    for title, (memories, pairs) in sets.items():
        print(
            f"\n== offline recall@3, {title}: {len(pairs)} questions over {len(memories)} memories (memory.search's fused ranking)"
        )
        print(
            f"   {'embedder':<14}{'recall@3':>10}{'vector only':>13}{'search p50 ms':>15}{'p99 ms':>9}{'recall vs hash':>16}{'p50 vs hash':>13}"
        )
        rows = {}
        for name, embedder in embedders().items():
            rows[name] = r = await measure(embedder, memories, pairs)
            base = rows["hash"]
            print(
                f"   {name:<14}{r['recall']:>10.2f}{r['vector_recall']:>13.2f}{r['p50']:>15.2f}{r['p99']:>9.2f}"
                f"{r['recall'] - base['recall']:>+16.2f}{r['p50'] / base['p50']:>13.2f}"
            )
