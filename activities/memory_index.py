"""The lexical half of memory search: BM25 over an SQLite FTS5 inverted index.

One index file per Chroma collection (so per tenant and embedder). It holds the same ids as the
collection and is always derivable from it: Chroma is the source of truth, this is an index of it.

- `upsert` replaces a document (its text, tags and stamp) under its id, so a write re-run by a retry
  leaves one entry; `delete` removes ids. Both run in one SQLite transaction.
- `search` ranks with FTS5's `bm25()` (k1 = 1.2, b = 0.75) through the inverted index, so its cost
  follows the postings of the query's words, not the size of the store. A word found in more than
  `COMMON_SHARE` of a large index is left out when rarer words remain: its idf is small, so it barely
  moves the ranking, and scoring its long posting list is what would make a query slow.
- `meta` keeps this file's `writer` id (stamped on the memories it writes, so a sync from Chroma skips
  them), the sync watermark and the progress of a (resumable) build from Chroma.

WAL mode: several processes on one host may share a file; a file is never put on a network share
(every worker derives its own from Chroma instead: see activities/memory.py).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

SCHEMA_VERSION = "1"
TAG_SEPARATOR = "\x1f"
# Words in more than this share of the documents are dropped from a query over a large index...
COMMON_SHARE = 0.02
# ...of at least this many documents (below it every word is scored; it is cheap).
PRUNE_FROM_DOCS = 2000
# Document counts of words are remembered until the index has grown or shrunk by this share.
DF_CACHE_DRIFT = 0.01
DF_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class IndexRecord:
    id: str
    text: str
    tags: Sequence[str] = field(default_factory=tuple)
    updated_ts: float = 0.0
    speaker_id: str | None = None


class Match(NamedTuple):
    id: str
    text: str
    score: float  # BM25, higher is better


def match_expression(words: Iterable[str]) -> str:
    """An FTS5 query that matches any of the words, each quoted (so no word is read as syntax)."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class LexicalIndex:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._df: dict[str, tuple[int, int]] = {}  # word -> (capped document count, index size then)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS docs (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, updated_ts REAL NOT NULL, "
                "tags TEXT NOT NULL DEFAULT '', speaker TEXT)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS doc_tags (tag TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (tag, doc)) WITHOUT ROWID"
            )
            db.execute("CREATE INDEX IF NOT EXISTS doc_tags_by_doc ON doc_tags (doc)")
            db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')"
            )
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('writer', ?)", (uuid.uuid4().hex,))
        self.writer_id = self.get_meta("writer") or ""

    def _tx(self):
        return _Transaction(self._db, self._lock)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._tx() as db:
            _set_meta(db, key, value)

    # --- writes -------------------------------------------------------------------------------

    def upsert(self, records: Sequence[IndexRecord], *, meta: dict[str, str | None] | None = None) -> None:
        """Replace each record under its id; `meta` is written in the same transaction (build progress)."""
        with self._tx() as db:
            for rec in records:
                row = db.execute("SELECT rowid FROM docs WHERE id = ?", (rec.id,)).fetchone()
                values = (rec.updated_ts, TAG_SEPARATOR.join(rec.tags), rec.speaker_id)
                if row is None:
                    rowid = db.execute(
                        "INSERT INTO docs (updated_ts, tags, speaker, id) VALUES (?, ?, ?, ?)", (*values, rec.id)
                    ).lastrowid
                else:
                    rowid = row[0]
                    db.execute(
                        "UPDATE docs SET updated_ts = ?, tags = ?, speaker = ? WHERE rowid = ?", (*values, rowid)
                    )
                    db.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
                    db.execute("DELETE FROM doc_tags WHERE doc = ?", (rowid,))
                db.execute("INSERT INTO fts (rowid, body) VALUES (?, ?)", (rowid, rec.text))
                db.executemany(
                    "INSERT OR IGNORE INTO doc_tags (tag, doc) VALUES (?, ?)", [(t, rowid) for t in rec.tags]
                )
            for key, value in (meta or {}).items():
                _set_meta(db, key, value)

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        with self._tx() as db:
            for doc_id in ids:
                row = db.execute("SELECT rowid FROM docs WHERE id = ?", (doc_id,)).fetchone()
                if row is None:
                    continue
                db.execute("DELETE FROM fts WHERE rowid = ?", (row[0],))
                db.execute("DELETE FROM doc_tags WHERE doc = ?", (row[0],))
                db.execute("DELETE FROM docs WHERE rowid = ?", (row[0],))
                removed += 1
        return removed

    def clear(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM fts")
            db.execute("DELETE FROM doc_tags")
            db.execute("DELETE FROM docs")
            db.execute("DELETE FROM meta WHERE key NOT IN ('schema', 'writer')")

    # --- reads --------------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM docs")}

    def stamps(self, ids: Sequence[str]) -> dict[str, float]:
        """updated_ts of the ids this index holds."""
        out: dict[str, float] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                out |= dict(
                    self._db.execute(f"SELECT id, updated_ts FROM docs WHERE id IN ({marks})", chunk).fetchall()
                )
        return out

    def lookup(self, ids: Sequence[str]) -> dict[str, IndexRecord]:
        """The records this index holds for the ids (text, tags in their order, speaker)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT d.id, f.body, d.tags, d.updated_ts, d.speaker FROM docs d JOIN fts f ON f.rowid = d.rowid "
            f"WHERE d.id IN ({marks})"
        )
        with self._lock:
            rows = self._db.execute(sql, list(ids)).fetchall()
        return {
            r[0]: IndexRecord(
                id=r[0], text=r[1], tags=[t for t in r[2].split(TAG_SEPARATOR) if t], updated_ts=r[3], speaker_id=r[4]
            )
            for r in rows
        }

    def search(self, words: Sequence[str], limit: int, tags: Sequence[str] | None = None) -> list[Match]:
        """The documents matching any of the words, best BM25 score first."""
        if not words:
            return []
        with self._lock:
            kept = self._selective(list(words))
            # Rank inside FTS5 first (ORDER BY rank LIMIT reads no content), then look up the few winners.
            sql = "SELECT rowid, rank FROM fts WHERE fts MATCH ?"
            args: list = [match_expression(kept)]
            if tags:
                sql += f" AND rowid IN (SELECT doc FROM doc_tags WHERE tag IN ({','.join('?' * len(tags))}))"
                args += list(tags)
            sql += " ORDER BY rank LIMIT ?"
            args.append(limit)
            ranked = self._db.execute(sql, args).fetchall()
            found = []
            for rowid, rank in ranked:
                row = self._db.execute(
                    "SELECT d.id, f.body FROM docs d JOIN fts f ON f.rowid = d.rowid WHERE d.rowid = ?", (rowid,)
                ).fetchone()
                if row is not None:
                    found.append(Match(row[0], row[1], -rank))  # FTS5's bm25() is negated: lower is better
            return found

    def _selective(self, words: list[str]) -> list[str]:
        """Leave out the words too common to matter in a large index (keeping the rarest one at least).
        Counting stops at the cap, so a common word costs at most the cap's worth of postings."""
        if len(words) < 2:
            return words
        total = self._db.execute("SELECT max(rowid) FROM docs").fetchone()[0] or 0
        if total < PRUNE_FROM_DOCS:
            return words
        cap = max(int(total * COMMON_SHARE), 1)
        counted = {w: self._document_count(w, cap, total) for w in words}
        kept = [w for w in words if counted[w] <= cap]
        return kept or [min(words, key=lambda w: counted[w])]

    def _document_count(self, word: str, cap: int, total: int) -> int:
        """How many documents hold the word, counted up to cap + 1; remembered while the index size
        stays within DF_CACHE_DRIFT of what it was (a word's share moves slowly)."""
        known = self._df.get(word)
        if known is not None and abs(total - known[1]) <= total * DF_CACHE_DRIFT:
            return known[0]
        count = self._db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? LIMIT ?)", (match_expression([word]), cap + 1)
        ).fetchone()[0]
        if len(self._df) >= DF_CACHE_SIZE:
            self._df.clear()
        self._df[word] = (count, total)
        return count


class _Transaction:
    """`with index._tx() as db:` one BEGIN IMMEDIATE .. COMMIT (ROLLBACK on error), under the lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db, self._lock = db, lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()


def _set_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
