"""memory.* activities: long-term memory in Chroma with hybrid (vector + keyword) search."""

from __future__ import annotations

import asyncio
import hashlib
import math
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

from temporalio import activity

from activities.embeddings import Embedder, make_embedder
from activities.text import terms
from config import Settings
from intents.memory import MemoryHit, MemorySearchInput, MemorySearchOutput, MemoryWriteInput, MemoryWriteOutput

RRF_K = 60  # the usual reciprocal-rank-fusion constant: dampens the head of each ranking
TAG_PREFIX = "tag:"


def open_chroma(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def memory_id(workflow_id: str, activity_id: str) -> str:
    """Stable across activity retries and workflow replays, so a retried write upserts, not duplicates."""
    return "mem-" + hashlib.sha256(f"{workflow_id}/{activity_id}".encode()).hexdigest()[:32]


def tag_filter(tags: list[str] | None) -> dict[str, Any] | None:
    if not tags:
        return None
    clauses = [{TAG_PREFIX + t: True} for t in tags]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def keyword_filter(query_terms: list[str]) -> dict[str, Any] | None:
    # $contains is case-sensitive; stems catch inflections ("prefer" in "preferred").
    variants = sorted({v for t in query_terms for v in (t, t.capitalize(), t.upper())})
    clauses = [{"$contains": v} for v in variants]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def keyword_scores(query_terms: list[str], docs: dict[str, str], corpus_size: int) -> dict[str, float]:
    """BM25-flavoured term overlap over the candidates (idf estimated from the candidate set)."""
    wanted = set(query_terms)
    doc_terms = {doc_id: terms(text) for doc_id, text in docs.items()}
    df = {t: sum(1 for ts in doc_terms.values() if t in ts) for t in wanted}
    scores = {}
    for doc_id, ts in doc_terms.items():
        score = 0.0
        for t in wanted:
            tf = ts.count(t)
            if tf:
                idf = math.log(1 + (corpus_size - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(ts) / 8))
        if score > 0:
            scores[doc_id] = score
    return scores


def fuse(*rankings: list[str]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


class MemoryActivities:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self._settings = settings
        self._embedder = embedder or make_embedder(settings)
        self._collection: Any = None
        self._lock = asyncio.Lock()

    def activities(self) -> list:
        return [self.write, self.search]

    async def collection(self):
        async with self._lock:
            if self._collection is None:
                # One collection per embedder: vectors of different models must never mix.
                name = f"{self._settings.chroma_collection}-{self._embedder.name}"

                def _open() -> Any:
                    client = open_chroma(self._settings)
                    return client.get_or_create_collection(
                        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                    )

                self._collection = await asyncio.to_thread(_open)
        return self._collection

    @activity.defn(name="memory.write")
    async def write(self, inp: MemoryWriteInput) -> MemoryWriteOutput:
        info = activity.info()
        mem_id = memory_id(info.workflow_id or "adhoc", info.activity_id)
        [vector] = await self._embedder.embed([inp.text])
        metadata: dict[str, Any] = {TAG_PREFIX + t: True for t in inp.tags}
        metadata |= {
            "tags": ",".join(inp.tags),
            "job_id": info.workflow_id or "",
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        if inp.speaker_id:
            metadata["speaker_id"] = inp.speaker_id
        col = await self.collection()
        await asyncio.to_thread(col.upsert, ids=[mem_id], documents=[inp.text], embeddings=[vector], metadatas=[metadata])
        return MemoryWriteOutput(id=mem_id)

    @activity.defn(name="memory.search")
    async def search(self, inp: MemorySearchInput) -> MemorySearchOutput:
        col = await self.collection()
        total = await asyncio.to_thread(col.count)
        if total == 0:
            return MemorySearchOutput(hits=[])
        [qvec] = await self._embedder.embed([inp.query])
        where = tag_filter(inp.tags)
        depth = min(max(inp.k * 5, 50), total)
        query_terms = terms(inp.query)

        def _candidates():
            vec = col.query(query_embeddings=[qvec], n_results=depth, where=where, include=["documents", "metadatas"])
            kw = None
            if (doc_filter := keyword_filter(query_terms)) is not None:
                kw = col.get(where=where, where_document=doc_filter, limit=200, include=["documents", "metadatas"])
            return vec, kw

        vec, kw = await asyncio.to_thread(_candidates)
        docs: dict[str, tuple[str, dict]] = {}
        vector_rank = list(vec["ids"][0])
        for i, doc_id in enumerate(vector_rank):
            docs[doc_id] = (vec["documents"][0][i], vec["metadatas"][0][i] or {})
        if kw:
            for i, doc_id in enumerate(kw["ids"]):
                docs[doc_id] = (kw["documents"][i], kw["metadatas"][i] or {})
        kw_scores = keyword_scores(query_terms, {d: text for d, (text, _) in docs.items()}, total)
        keyword_rank = sorted(kw_scores, key=lambda d: (-kw_scores[d], vector_rank.index(d) if d in vector_rank else depth))
        fused = fuse(vector_rank, keyword_rank)
        best = sorted(fused, key=lambda d: -fused[d])[: inp.k]
        hits = []
        for doc_id in best:
            text, meta = docs[doc_id]
            tags = [t for t in str(meta.get("tags", "")).split(",") if t]
            hits.append(
                MemoryHit(id=doc_id, text=text, tags=tags, speaker_id=meta.get("speaker_id"), score=round(fused[doc_id] * RRF_K, 4))
            )
        return MemorySearchOutput(hits=hits)
