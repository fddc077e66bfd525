"""memory.* activities: long-term memory in Chroma, found by meaning (vectors) and by words (BM25).

Where things live (one *space* per tenant):
- the memories themselves: a Chroma collection `<CHROMA_COLLECTION>-<embedder>` (`--<tenant>` appended for
  tenants other than `default`), embedded or a server (`CHROMA_URL`). Vectors of different embedders
  never mix, and tenants never share a collection, so a search cannot cross tenants;
- the lexical index of that collection (activities/memory_index.py), an SQLite FTS5 file in
  `MEMORY_INDEX_DIR`. It is derived from Chroma: a new file is built from the collection (resumably),
  and with `CHROMA_URL` every worker keeps its own file current by reading, at most every
  `MEMORY_INDEX_SYNC_S`, the memories other workers stamped since its watermark. Deletes by other
  workers need no feed: a lexical hit Chroma no longer has is dropped (and removed) when it is read.

Consistency: a write goes to the index first, then Chroma, under ids derived from the job (memory.write)
or from the content (memory.write_batch), so a retry upserts the same ids. A delete goes to Chroma
first, then the index. Whatever a crash leaves between the two heals on the next read or retry.

`memory.write` on embedded Chroma with a local embedder is written behind (activities/memory_outbox.py):
it is answered once committed (fsynced) to the collection's journal and indexed, and the process's
drainer thread puts it into Chroma; every read first waits for the writes answered before it. Bulk
writes (`memory.write_batch`), remote embedders and a Chroma server (`CHROMA_URL`) go through to Chroma
before they are answered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from temporalio import activity

from activities import memory_outbox
from activities.embeddings import Embedder, make_embedder
from activities.memory_index import IndexRecord, LexicalIndex
from activities.memory_outbox import DRAINER, Drained, Journal, Journaled, Lane
from activities.text import stem, words
from config import Settings
from intents.canonical import canonical_json
from intents.errors import ErrorType, app_error
from intents.memory import (
    DEFAULT_TENANT,
    MemoryDeleteCall,
    MemoryDeleteOutput,
    MemoryHit,
    MemorySearchCall,
    MemorySearchOutput,
    MemoryWriteBatchCall,
    MemoryWriteBatchOutput,
    MemoryWriteCall,
    MemoryWriteInput,
    MemoryWriteOutput,
)

log = logging.getLogger(__name__)

RRF_K = 60  # the usual reciprocal-rank-fusion constant: dampens the head of each ranking
TAG_PREFIX = "tag:"
PAGE = 1000  # records per Chroma page when building or syncing an index
# A sync re-reads this much before its watermark: covers clock skew between workers and writes that
# were stamped before the last sync but reached Chroma after it.
SYNC_OVERLAP_S = 5.0
# The keyword ranking counts a memory only when it holds at least this share of the query's words (stop
# words aside): one shared word ("team", "day") says little about a memory, and letting it vote pushed
# paraphrase matches out of the top 3 (bench/memory_recall.py: 0.80 -> 0.96 recall@3 with minilm).
MIN_KEYWORD_COVERAGE = 0.5
# One drain (or delete) at a time per collection in this process: a delete must not race a batch that
# is putting one of its ids into Chroma.
_DRAIN_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


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


def memory_id(workflow_id: str, activity_id: str, tenant: str = DEFAULT_TENANT) -> str:
    """Stable across activity retries and workflow replays, so a retried write upserts, not duplicates."""
    scope = "" if tenant == DEFAULT_TENANT else f"{tenant}\x00"
    return "mem-" + hashlib.sha256(f"{scope}{workflow_id}/{activity_id}".encode()).hexdigest()[:32]


def content_id(tenant: str, item: MemoryWriteInput) -> str:
    """A batch item's id: the same text, tags and speaker (in the same tenant) is the same memory."""
    material = canonical_json([tenant, item.text, item.tags, item.speaker_id])
    return "mem-" + hashlib.sha256(material.encode()).hexdigest()[:32]


def collection_name(base: str, embedder_name: str, tenant: str = DEFAULT_TENANT) -> str:
    name = f"{base}-{embedder_name}"
    if tenant == DEFAULT_TENANT:
        return name
    # Chroma names end in a letter or digit; a tenant may end in '-' or '_'.
    suffix = tenant if tenant[-1].isalnum() else f"{tenant}x{hashlib.sha256(tenant.encode()).hexdigest()[:8]}"
    return f"{name}--{suffix}"


def tag_filter(tags: Sequence[str] | None) -> dict[str, Any] | None:
    if not tags:
        return None
    clauses = [{TAG_PREFIX + t: True} for t in tags]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def fuse(*rankings: Sequence[str] | Mapping[str, int]) -> dict[str, float]:
    """Reciprocal-rank fusion. A ranking is a list of ids (rank = position) or {id: rank}, where tied
    documents share a rank: a tie carries no preference, so it must not pretend to one."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        ranks = ranking.items() if isinstance(ranking, Mapping) else ((d, r) for r, d in enumerate(ranking))
        for doc_id, rank in ranks:
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


def ranks_with_ties(ranked: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Competition ranking ("1224") of (id, score) already in ranking order; equal scores (BM25 scores,
    or vector distances) share a rank."""
    out: dict[str, int] = {}
    previous: float | None = None
    rank = 0
    for position, (doc_id, score) in enumerate(ranked):
        score = round(score, 6)
        if score != previous:
            rank, previous = position, score
        out[doc_id] = rank
    return out


def keyword_coverage(query_words: Sequence[str], text: str) -> float:
    """Share of the query's words found in the text (both loosely stemmed)."""
    if not query_words:
        return 0.0
    have = {stem(w) for w in words(text)}
    return sum(stem(w) in have for w in query_words) / len(query_words)


def _tags_of(meta: dict[str, Any]) -> list[str]:
    return [t for t in str(meta.get("tags", "")).split(",") if t]


def _record(doc_id: str, text: str | None, meta: dict[str, Any] | None) -> IndexRecord:
    meta = meta or {}
    return IndexRecord(
        id=doc_id,
        text=text or "",
        tags=_tags_of(meta),
        updated_ts=float(meta.get("updated_ts", 0.0)),
        speaker_id=meta.get("speaker_id"),
    )


@dataclass
class Memory:
    id: str
    text: str
    tags: list[str]
    speaker_id: str | None = None
    job_id: str = ""


@dataclass
class Space:
    """One tenant's memories: its collection and the lexical index of it."""

    tenant: str
    collection: Any
    index: LexicalIndex
    last_sync: float = 0.0
    journal_path: Path | None = None
    journal: Journal | None = None  # answered writes on their way to Chroma (write-behind)
    lane: Lane | None = None  # the journal as the drainer sees it

    @property
    def drain_lock(self) -> threading.Lock:
        return _DRAIN_LOCKS[str(self.journal_path)]


class MemoryStore:
    def __init__(self, settings: Settings, embedder: Embedder):
        self._settings = settings
        self.embedder = embedder
        self._client: Any = None
        self._spaces: dict[str, Space] = {}
        self._lock = asyncio.Lock()
        # A search asks Chroma (vectors) and SQLite (BM25) at the same time: both release the GIL.
        self._lexical_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="memory-bm25")
        # Only an embedder that runs here (it cannot fail on its input) is left to the drainer; one that
        # can (a remote endpoint) embeds before the write is answered, so its errors reach the caller.
        self._local_vectors = getattr(embedder, "vectors", None)
        self.write_behind = settings.memory_write_behind and not settings.chroma_url and self._local_vectors is not None

    def collection_name(self, tenant: str = DEFAULT_TENANT) -> str:
        return collection_name(self._settings.chroma_collection, self.embedder.name, tenant)

    async def space(self, tenant: str = DEFAULT_TENANT) -> Space:
        found = self._spaces.get(tenant)
        if found is not None:
            return found
        async with self._lock:
            if tenant not in self._spaces:
                space = await asyncio.to_thread(self._open, tenant)
                await self._adopt(space)
                self._spaces[tenant] = space
        return self._spaces[tenant]

    def _open(self, tenant: str) -> Space:
        if self._client is None:
            self._client = open_chroma(self._settings)
        name = self.collection_name(tenant)
        col = self._client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        space = Space(
            tenant=tenant, collection=col, index=LexicalIndex(self._settings.memory_index_path / f"{name}.sqlite3")
        )
        self._build(space)
        # A journal found on open (a crash, a stop before its drain) drains whatever this store's mode.
        path = space.journal_path = self.journal_path(name)
        if self.write_behind or path.exists():
            space.journal = Journal(path)
            space.lane = DRAINER.lane(
                str(path),
                lambda: self._drain_batch(space),
                delay_s=self._settings.memory_drain_delay_s,
                newest=space.journal.newest(),
                count=space.journal.count(),
            )
        return space

    def journal_path(self, collection: str) -> Path:
        return self._settings.data_dir / "memory-journal" / f"{collection}.sqlite3"

    def _build(self, space: Space) -> None:
        """Fill a new index from its collection, a page per transaction; an interrupted build resumes."""
        index = space.index
        if index.get_meta("built"):
            return
        offset = int(index.get_meta("build_offset") or 0)
        started = index.get_meta("build_started") or str(time.time())
        index.set_meta("build_started", started)
        while True:
            page = space.collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            offset += len(page["ids"])
            records = [
                _record(i, d, m) for i, d, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            ]
            index.upsert(records, meta={"build_offset": str(offset)})
            if len(page["ids"]) < PAGE:
                break
        if offset:
            log.info("memory: lexical index of %s built from Chroma (%d memories)", space.collection.name, offset)
        index.upsert([], meta={"built": "1", "synced_ts": started, "build_offset": None, "build_started": None})

    async def _adopt(self, space: Space) -> None:
        """A new, empty collection takes in the memories its tenant wrote under another embedder (e.g.
        after EMBEDDER changed), re-embedded; resumable, a page at a time."""
        index = space.index
        if index.get_meta("adopted") is None:
            source = await asyncio.to_thread(self._adoption_source, space)
            index.set_meta("adopted", source or "")
        source = index.get_meta("adopted") or ""
        if not source or index.get_meta("adopt_done"):
            return
        src = await asyncio.to_thread(self._client.get_collection, source)
        offset = int(index.get_meta("adopt_offset") or 0)
        while True:
            page = await asyncio.to_thread(src.get, include=["documents", "metadatas"], limit=PAGE, offset=offset)
            if len(page["ids"]) < PAGE:  # the last page: with what the source's journal still holds
                page = await asyncio.to_thread(self._with_journal_of, source, page)
            if page["ids"]:
                vectors = await self.embedder.embed(list(page["documents"]))
                stamp = time.time()
                metas = [{**(m or {}), "updated_ts": stamp, "writer": index.writer_id} for m in page["metadatas"]]
                records = [_record(i, d, m) for i, d, m in zip(page["ids"], page["documents"], metas, strict=True)]
                offset += len(page["ids"])
                await asyncio.to_thread(index.upsert, records)
                await asyncio.to_thread(
                    space.collection.upsert,
                    ids=page["ids"],
                    documents=page["documents"],
                    embeddings=vectors,
                    metadatas=metas,
                )
                index.set_meta("adopt_offset", str(offset))
            if len(page["ids"]) < PAGE:
                break
        log.warning(
            "memory: %d memories written under another embedder (%s) were re-embedded into %s",
            offset, source, space.collection.name,
        )  # fmt: skip
        index.set_meta("adopt_done", "1")

    def _with_journal_of(self, source: str, page: dict) -> dict:
        """A page of the source collection plus the writes still in its journal (answered under the old
        embedder, never drained): they are adopted too, newest version first. The source's journal is
        left as it is: switching back drains it into the source."""
        path = self.journal_path(source)
        if not path.exists():
            return page
        rows = Journal(path).take(1_000_000)
        known = set(page["ids"])
        extra = [r for r in rows if r.id not in known]
        return {
            "ids": [*page["ids"], *(r.id for r in extra)],
            "documents": [*page["documents"], *(r.text for r in extra)],
            "metadatas": [*page["metadatas"], *(json.loads(r.meta) for r in extra)],
        }

    def _adoption_source(self, space: Space) -> str | None:
        if space.collection.count() > 0:
            return None
        base, tenant = self._settings.chroma_collection, space.tenant
        suffix = "" if tenant == DEFAULT_TENANT else collection_name("", "", tenant)[1:]
        pattern = re.compile(re.escape(f"{base}-") + r"[A-Za-z0-9._-]+?" + re.escape(suffix) + "$")
        candidates = []
        for col in self._client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name == space.collection.name or not pattern.match(name) or (not suffix and "--" in name):
                continue
            count = self._client.get_collection(name).count()
            path = self.journal_path(name)
            count += Journal(path).count() if path.exists() else 0
            if count:
                candidates.append((count, name))
        return max(candidates)[1] if candidates else None

    # --- sync from Chroma (several workers, one Chroma server) -----------------------------------

    def _maybe_sync(self, space: Space) -> None:
        """With CHROMA_URL, take in what other workers wrote since the watermark (at most every
        MEMORY_INDEX_SYNC_S). Embedded Chroma has one writer: this process, so there is nothing to take."""
        if not self._settings.chroma_url:
            return
        now = time.time()
        if now - space.last_sync < self._settings.memory_index_sync_s:
            return
        space.last_sync = now
        index = space.index
        since = float(index.get_meta("synced_ts") or 0.0) - SYNC_OVERLAP_S
        where = {"$and": [{"updated_ts": {"$gte": since}}, {"writer": {"$ne": index.writer_id}}]}
        offset = 0
        while True:
            page = space.collection.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            offset += len(page["ids"])
            stamps = index.stamps(page["ids"])
            changed = [
                i
                for i, m in zip(page["ids"], page["metadatas"], strict=True)
                if stamps.get(i) != float((m or {}).get("updated_ts", 0.0))
            ]
            if changed:
                got = space.collection.get(ids=changed, include=["documents", "metadatas"])
                index.upsert(
                    [_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
                )
            if len(page["ids"]) < PAGE:
                break
        index.set_meta("synced_ts", str(now))

    # --- the operations ------------------------------------------------------------------------

    async def upsert(self, tenant: str, memories: Sequence[Memory], *, behind: bool = False) -> int:
        """Write the memories (index first, then Chroma). One already stored as it is (a retry, a
        re-import) is not written again: nothing to embed, and Chroma's HNSW index is not churned (in
        chromadb 1.5 re-upserting existing ids can leave parts of its graph unreachable). Returns how
        many were written.

        `behind` (a single memory.write, with write-behind on): answered once journaled and indexed;
        the drainer puts the memories into Chroma."""
        unique = list({m.id: m for m in memories}.values())
        space = await self.space(tenant)
        if behind and self.write_behind and space.lane is not None:
            return await self._journal(space, space.lane, unique)
        await self._settled(space)  # a journaled older version of an id must not land after this one
        stored, indexed = await asyncio.to_thread(self._stored, space, [m.id for m in unique])
        fresh = [m for m in unique if stored.get(m.id) != (m.text, list(m.tags), m.speaker_id)]
        unindexed = [m for m in unique if m not in fresh and indexed.get(m.id) != (m.text, list(m.tags), m.speaker_id)]
        vectors = await self.embedder.embed([m.text for m in fresh]) if fresh else []
        stamp = time.time()

        def write() -> None:
            # What Chroma holds but this index lacks (a rebuilt or lagging index) is indexed as it is.
            space.index.upsert([IndexRecord(m.id, m.text, m.tags, stamp, m.speaker_id) for m in [*fresh, *unindexed]])
            if fresh:
                space.collection.upsert(
                    ids=[m.id for m in fresh],
                    documents=[m.text for m in fresh],
                    embeddings=vectors,
                    metadatas=[self._metadata(space, m, stamp) for m in fresh],
                )

        await asyncio.to_thread(write)
        return len(fresh)

    @staticmethod
    def _stored(space: Space, ids: list[str]) -> tuple[dict[str, tuple], dict[str, tuple]]:
        """(text, tags, speaker) of the ids as Chroma holds them, and as the index holds them."""
        stored = MemoryStore._in_chroma(space, ids)
        indexed = {i: (r.text, list(r.tags), r.speaker_id) for i, r in space.index.lookup(ids).items()}
        return stored, indexed

    @staticmethod
    def _in_chroma(space: Space, ids: list[str]) -> dict[str, tuple]:
        """(text, tags, speaker) of the ids as Chroma holds them."""
        got = space.collection.get(ids=ids, include=["documents", "metadatas"]) if ids else {"ids": []}
        return {
            i: (d, _tags_of(m or {}), (m or {}).get("speaker_id"))
            for i, d, m in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [], strict=False)
        }

    def _metadata(self, space: Space, m: Memory, stamp: float) -> dict[str, Any]:
        meta: dict[str, Any] = {TAG_PREFIX + t: True for t in m.tags}
        meta |= {
            "tags": ",".join(m.tags), "job_id": m.job_id, "created_at": datetime.fromtimestamp(stamp, timezone.utc).isoformat(),
            "tenant": space.tenant, "updated_ts": stamp, "writer": space.index.writer_id,
        }  # fmt: skip
        if m.speaker_id:
            meta["speaker_id"] = m.speaker_id
        return meta

    async def _journal(self, space: Space, lane: Lane, memories: list[Memory]) -> int:
        """Write-behind: commit to the journal (fsynced) and the index; the drainer does the rest. What
        the index holds as it is already (a retry) is not journaled again."""
        if not DRAINER.has_room(lane) and (problem := await DRAINER.room(lane)) is not None:
            raise app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"memory: {problem}", retryable=True)
        return await asyncio.to_thread(self._commit, space, lane, memories)

    def _commit(self, space: Space, lane: Lane, memories: list[Memory]) -> int:
        """In a thread, to its end even if the activity that asked is cancelled meanwhile: the drainer
        hears of every commit."""
        assert space.journal is not None
        indexed = space.index.lookup([m.id for m in memories])
        fresh = [
            m
            for m in memories
            if (rec := indexed.get(m.id)) is None
            or (rec.text, list(rec.tags), rec.speaker_id) != (m.text, list(m.tags), m.speaker_id)
        ]
        if not fresh:
            # A retry: its first attempt committed. If that write is still journaled, see that it drains.
            if space.journal.pending([m.id for m in memories]):
                DRAINER.kick(lane, space.journal.newest())
            return 0
        stamp = time.time()
        seq = space.journal.add(
            [(m.id, m.text, m.tags, m.speaker_id, stamp, json.dumps(self._metadata(space, m, stamp))) for m in fresh]
        )
        # The index after the journal: a crash between the two leaves a journaled write the drain indexes.
        space.index.upsert([IndexRecord(m.id, m.text, m.tags, stamp, m.speaker_id) for m in fresh])
        DRAINER.journaled(lane, seq, len(fresh))
        return len(fresh)

    def _drain_batch(self, space: Space) -> Drained:
        """The drainer's work for one collection: the oldest journaled writes into Chroma."""
        assert space.journal is not None
        with space.drain_lock:
            batch = space.journal.take(memory_outbox.DRAIN_BATCH)
            if batch:
                self._store_journaled(space, batch)
            oldest = space.journal.oldest()
        return Drained(len(batch), None if oldest is None else oldest - 1)

    def _store_journaled(self, space: Space, batch: list[Journaled]) -> None:
        assert space.journal is not None
        stored = self._in_chroma(space, [r.id for r in batch])
        # A drain cut short by a crash is re-run: what reached Chroma already is left as it is.
        fresh = [r for r in batch if stored.get(r.id) != (r.text, r.tags, r.speaker_id)]
        # A crash between journal and index, or an index rebuilt meanwhile: index what it lacks.
        indexed = space.index.lookup([r.id for r in batch])
        space.index.upsert(
            [IndexRecord(r.id, r.text, r.tags, r.updated_ts, r.speaker_id) for r in batch if r.id not in indexed]
        )
        if fresh:
            assert self._local_vectors is not None
            vectors = self._local_vectors([r.text for r in fresh])
            try:
                self._chroma_upsert(space, fresh, vectors)
            except Exception as exc:  # noqa: BLE001 - find out whether one memory or Chroma is at fault
                self._one_by_one(space, fresh, vectors, exc)
        space.journal.settle([r.seq for r in batch])

    @staticmethod
    def _chroma_upsert(space: Space, rows: list[Journaled], vectors: list[list[float]]) -> None:
        space.collection.upsert(
            ids=[r.id for r in rows],
            documents=[r.text for r in rows],
            embeddings=vectors,
            metadatas=[json.loads(r.meta) for r in rows],
        )

    def _one_by_one(self, space: Space, rows: list[Journaled], vectors: list[list[float]], error: Exception) -> None:
        """Chroma refused a batch: retry each memory alone. If some go in, the refused ones are at fault:
        they are set aside (the journal's `dead` table, an error in the log, out of the lexical index).
        If none goes in, Chroma is: the batch stays journaled and the drain fails, to be retried."""
        assert space.journal is not None
        refused: list[tuple[Journaled, str]] = []
        for row, vector in zip(rows, vectors, strict=True):
            try:
                self._chroma_upsert(space, [row], [vector])
            except Exception as exc:  # noqa: BLE001
                refused.append((row, f"{type(exc).__name__}: {exc}"[:500]))
        if len(refused) == len(rows):
            raise error
        for row, reason in refused:
            log.error(
                "memory %s (job %s) was refused by Chroma and set aside in %s (table dead): %s",
                row.id, json.loads(row.meta).get("job_id", ""), space.journal.path, reason,
            )  # fmt: skip
            space.journal.bury(row, reason)
            space.index.delete([row.id])

    async def _settled(self, space: Space) -> None:
        """Read your writes: wait until the writes journaled so far are in Chroma."""
        if space.lane is None:
            return
        if (problem := await DRAINER.settled(space.lane)) is not None:
            raise app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"memory: {problem}", retryable=True)

    async def settled(self, tenant: str = DEFAULT_TENANT) -> None:
        """Until the tenant's journaled writes are all in Chroma (for readers of Chroma itself)."""
        await self._settled(await self.space(tenant))

    async def search(self, tenant: str, query: str, k: int, tags: Sequence[str] | None = None) -> list[MemoryHit]:
        [qvec] = await self.embedder.embed([query])
        space = await self.space(tenant)
        await self._settled(space)
        return await asyncio.to_thread(self._search, space, qvec, words(query), k, tags)

    def _search(self, space: Space, qvec: list[float], query_words: list[str], k: int, tags) -> list[MemoryHit]:
        self._maybe_sync(space)
        depth = max(k * 4, 20)
        lexical = self._lexical_pool.submit(space.index.search, query_words, depth, tags)
        vec = space.collection.query(
            query_embeddings=[qvec], n_results=depth, where=tag_filter(tags), include=["distances"]
        )
        keyword_hits = [m for m in lexical.result() if keyword_coverage(query_words, m.text) >= MIN_KEYWORD_COVERAGE]
        scored = list(zip(vec["ids"][0], vec["distances"][0], strict=True))
        returned = set(vec["ids"][0])
        scored += self._exact_distances(space, qvec, [m.id for m in keyword_hits if m.id not in returned])
        vector_rank = ranks_with_ties(sorted(scored, key=lambda pair: pair[1]))
        lexical_rank = ranks_with_ties([(m.id, m.score) for m in keyword_hits])
        hits: dict[str, MemoryHit] = {}
        for _ in range(3):
            fused = fuse(vector_rank, lexical_rank)
            best = sorted(fused, key=lambda d: -fused[d])[:k]
            # A vector hit is in Chroma (it just answered with it): its text and tags come from the index.
            # Chroma is asked only about the rest: keyword-only hits (the index may hold what Chroma no
            # longer has) and memories the index has not taken in yet (another worker's, not synced).
            local = space.index.lookup(best)
            in_vector = set(vector_rank)
            ask = [d for d in best if d not in local or d not in in_vector]
            # A keyword hit still journaled (written after this search began) is on its way to Chroma. Asked
            # before Chroma is: one drained in between is then in one answer or the other, never neither.
            on_the_way = space.journal.pending([d for d in ask if d in local]) if space.journal else set()
            fetched = self._fetch(space, ask)
            hits = {d: self._hit(d, *fetched[d], score=fused[d]) for d in fetched}
            hits |= {
                d: self._local_hit(local[d], score=fused[d])
                for d in best
                if d not in ask or (d in on_the_way and d not in fetched)
            }
            gone = [d for d in ask if d not in fetched and d not in on_the_way]
            if not gone:
                break
            # Keyword entries Chroma no longer holds (deleted by another worker, or a write that never
            # reached Chroma): drop them here and from the index.
            space.index.delete(gone)
            lexical_rank = {d: r for d, r in lexical_rank.items() if d not in gone}
            vector_rank = {d: r for d, r in vector_rank.items() if d not in gone}
        return [hits[d] for d in best if d in hits]

    @staticmethod
    def _exact_distances(space: Space, qvec: list[float], ids: list[str]) -> list[tuple[str, float]]:
        """The cosine distances of keyword hits Chroma's vector query did not return. Its HNSW search is
        approximate: measured on 120 near-alike memories ("Server rack N sits in room M", hash
        embedder), it missed the exact nearest one in 1 to 5 of 12 fresh stores, and the fused ranking then
        put "rack 0" above "rack 42" for the query "Server rack 42". Scored exactly, a keyword hit takes
        the vector rank it really has."""
        if not ids:
            return []
        got = space.collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:  # none of them in Chroma (any more): the search drops them as it does others
            return []
        q = np.asarray(qvec, dtype=np.float64)
        vectors = np.asarray(got["embeddings"], dtype=np.float64).reshape(len(got["ids"]), -1)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(q) or 1.0)
        cosine = (vectors @ q) / np.where(norms == 0, 1.0, norms)
        return [(doc_id, float(1.0 - c)) for doc_id, c in zip(got["ids"], cosine, strict=True)]

    def _fetch(self, space: Space, ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        if not ids:
            return {}
        got = space.collection.get(ids=list(ids), include=["documents", "metadatas"])
        out = {}
        for doc_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            meta = meta or {}
            if meta.get("tenant", DEFAULT_TENANT) == space.tenant:  # a second lock on the tenant door
                out[doc_id] = (text or "", meta)
        return out

    @staticmethod
    def _hit(doc_id: str, text: str, meta: dict, *, score: float) -> MemoryHit:
        return MemoryHit(
            id=doc_id, text=text, tags=_tags_of(meta), speaker_id=meta.get("speaker_id"), score=round(score * RRF_K, 4)
        )

    @staticmethod
    def _local_hit(rec: IndexRecord, *, score: float) -> MemoryHit:
        return MemoryHit(
            id=rec.id, text=rec.text, tags=list(rec.tags), speaker_id=rec.speaker_id, score=round(score * RRF_K, 4)
        )

    async def get(self, tenant: str, ids: Sequence[str]) -> list[MemoryHit]:
        space = await self.space(tenant)
        await self._settled(space)
        found = await asyncio.to_thread(self._fetch, space, ids)
        return [self._hit(d, *found[d], score=0.0) for d in ids if d in found]

    async def delete(self, tenant: str, ids: Sequence[str]) -> list[str]:
        """Delete from Chroma, then from the index; returns the ids that existed."""
        space = await self.space(tenant)
        await self._settled(space)

        def remove() -> list[str]:
            with space.drain_lock:  # not while a drain may be putting one of these into Chroma
                journaled = space.journal.remove(list(ids)) if space.journal else set()
                existing = list(self._fetch(space, ids))
                if existing:
                    space.collection.delete(ids=existing)
                space.index.delete(ids)
            return [*existing, *(i for i in ids if i in journaled and i not in existing)]

        return await asyncio.to_thread(remove)


class MemoryActivities:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.store = MemoryStore(settings, embedder or make_embedder(settings))

    def activities(self) -> list:
        return [self.write, self.write_batch, self.search, self.delete]

    @activity.defn(name="memory.write")
    async def write(self, inp: MemoryWriteCall) -> MemoryWriteOutput:
        info = activity.info()
        mem_id = memory_id(info.workflow_id or "adhoc", info.activity_id, inp.tenant)
        memory = Memory(
            id=mem_id, text=inp.text, tags=inp.tags, speaker_id=inp.speaker_id, job_id=info.workflow_id or ""
        )
        await self.store.upsert(inp.tenant, [memory], behind=True)
        return MemoryWriteOutput(id=mem_id)

    @activity.defn(name="memory.write_batch")
    async def write_batch(self, inp: MemoryWriteBatchCall) -> MemoryWriteBatchOutput:
        job = activity.info().workflow_id or ""
        memories = [
            Memory(
                id=content_id(inp.tenant, item), text=item.text, tags=item.tags, speaker_id=item.speaker_id, job_id=job
            )
            for item in inp.items
        ]
        written = await self.store.upsert(inp.tenant, memories)
        return MemoryWriteBatchOutput(ids=[m.id for m in memories], written=written)

    @activity.defn(name="memory.search")
    async def search(self, inp: MemorySearchCall) -> MemorySearchOutput:
        return MemorySearchOutput(hits=await self.store.search(inp.tenant, inp.query, inp.k, inp.tags))

    @activity.defn(name="memory.delete")
    async def delete(self, inp: MemoryDeleteCall) -> MemoryDeleteOutput:
        if inp.query is not None:
            matches = await self.store.search(inp.tenant, inp.query, inp.k, inp.tags)
        else:
            matches = await self.store.get(inp.tenant, inp.ids or [])
        found = [m.id for m in matches]
        missing = [i for i in inp.ids or [] if i not in found]
        if inp.dry_run:
            step = None
            if found:
                step = "to delete these, call memory.delete with " + canonical_json({"ids": found, "dry_run": False})
            return MemoryDeleteOutput(dry_run=True, matches=matches, missing=missing, next_step=step)
        deleted = await self.store.delete(inp.tenant, inp.ids or [])
        return MemoryDeleteOutput(
            dry_run=False, matches=matches, deleted=deleted, missing=[i for i in inp.ids or [] if i not in deleted]
        )
