"""FaissStore: a LangGraph `BaseStore` with durable items in SQLite and vector search by faiss.

SQLite is the source of truth: items, and the embedding of every indexed field, are committed (WAL,
synchronous=FULL) before `batch` returns, so a process killed at any moment loses no acknowledged
write. The faiss index (`vector_index.py`) is a derived, in-memory accelerator over the stored
embeddings, saved by `close()` and rebuilt on open when the saved copy is stale.

Read and write semantics follow LangGraph's `InMemoryStore` (the contract suite checks both): within one
batch, reads see the state before the batch's writes; searches with a query rank by cosine similarity,
max-pooled over an item's indexed fields; items without an embedding fill up after the scored ones.
"""

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
)
from langgraph.store.memory import _compare_values, _does_match

from retinue.errors import RetinueError
from retinue.memory.vector_index import VectorIndex
from retinue.sqlitefiles import connect_shared

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    embedding BLOB NOT NULL,
    text_hash TEXT
);
CREATE INDEX IF NOT EXISTS vectors_by_item ON vectors (namespace, key);
CREATE INDEX IF NOT EXISTS items_by_time ON items (updated_at);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DB_FILE = "items.sqlite"
# Labels may not contain "." (LangGraph validates this), so it joins a namespace unambiguously.
_SEP = "."


def _ns_text(namespace: tuple[str, ...]) -> str:
    return _SEP.join(namespace)


def _ns_tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split(_SEP)) if text else ()


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FaissStore(BaseStore):
    """Durable JSON items by namespace tuple, with faiss vector search over configured fields.

    `path=None` keeps everything in memory (for tests and scratch work). `index` is LangGraph's
    `IndexConfig`: `{"dims": 384, "embed": MiniLMEmbeddings(), "fields": ["text"]}`.
    """

    def __init__(self, path: Path | str | None = None, *, index: IndexConfig | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.index_config = dict(index) if index else None
        self.embeddings = ensure_embeddings(index.get("embed")) if index else None
        self._dims = int(index["dims"]) if index else 0
        self._fields = [(f, tokenize_path(f)) for f in ((index or {}).get("fields") or ["$"])]
        self._lock = threading.RLock()
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = connect_shared(self.path / DB_FILE if self.path else ":memory:")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(vectors)")}
            if "text_hash" not in columns:  # a store written before vectors remembered their text
                self._conn.execute("ALTER TABLE vectors ADD COLUMN text_hash TEXT")
        except sqlite3.DatabaseError as error:
            raise RetinueError(f"cannot open the memory store at {self.path}: {error}") from None
        self._check_dims()
        # The write sequence the in-memory index reflects. Other processes may write to the same database:
        # each batch first catches up when the database's sequence has moved past this one.
        self._indexed_sequence = self._sequence()
        self._vectors = VectorIndex.open(self._conn, self._dims, self.path, self._indexed_sequence)

    # -- lifecycle -----------------------------------------------------------------------------

    def _meta(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _check_dims(self) -> None:
        stored = self._meta("dims")
        if self._dims and stored and int(stored) != self._dims:
            raise RetinueError(f"the memory store at {self.path} holds {stored}-d vectors, not {self._dims}-d")
        if self._dims and not stored:
            with self._conn:
                self._conn.execute("INSERT INTO meta VALUES ('dims', ?)", (str(self._dims),))

    def _sequence(self) -> int:
        return int(self._meta("seq") or 0)

    def _catch_up(self) -> None:
        # Read the sequence first: a write landing during the catch-up is taken in now or by the next batch.
        sequence = self._sequence()
        if sequence != self._indexed_sequence:
            self._vectors.catch_up(self._conn)
            self._indexed_sequence = sequence

    def save_index(self) -> None:
        """Write the faiss index and the sequence it reflects, atomically; a later open skips the rebuild."""
        if self.path is None:
            return
        with self._lock:
            self._vectors.save(self.path, self._indexed_sequence)

    def close(self) -> None:
        with self._lock:
            self.save_index()
            self._conn.close()

    def __enter__(self) -> "FaissStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # -- BaseStore -----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            if isinstance(op, PutOp):
                puts[(op.namespace, op.key)] = op
        queries = {op.query for op in ops if isinstance(op, SearchOp) and op.query}
        # Embedding is the slow part: do it before taking the lock.
        query_vectors = self._embed(sorted(queries))
        put_vectors = self._embed_puts(list(puts.values()))
        with self._lock:
            self._catch_up()
            results: list[Result] = []
            for op in ops:
                if isinstance(op, GetOp):
                    results.append(self._get(op))
                elif isinstance(op, SearchOp):
                    results.append(self._search(op, query_vectors.get(op.query) if op.query else None))
                elif isinstance(op, ListNamespacesOp):
                    results.append(self._list_namespaces(op))
                elif isinstance(op, PutOp):
                    results.append(None)
                else:
                    raise ValueError(f"Unknown operation type: {type(op)}")
            if puts:
                self._apply_puts(list(puts.values()), put_vectors)
            return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))

    # -- embedding -----------------------------------------------------------------------------

    def _embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if not texts or self.embeddings is None:
            return {}
        vectors = np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float32)
        faiss.normalize_L2(vectors)
        return dict(zip(texts, vectors, strict=True))

    def _embed_puts(self, puts: list[PutOp]) -> dict[tuple[tuple[str, ...], str], list[tuple[str, str, np.ndarray]]]:
        """For each indexed put, its (field path, text hash, unit vector) triples. A field whose text is unchanged keeps
        its stored vector: updating an item's other fields (a memory's importance, say) embeds nothing."""
        if self.embeddings is None:
            return {}
        wanted: list[tuple[tuple[tuple[str, ...], str], str, str]] = []
        for op in puts:
            if op.value is None or op.index is False:
                continue
            fields = self._fields if op.index is None else [(f, tokenize_path(f)) for f in op.index]
            for path, tokens in fields:
                texts = get_text_at_path(op.value, tokens)
                for i, text in enumerate(texts):
                    wanted.append(((op.namespace, op.key), path if len(texts) == 1 else f"{path}.{i}", text))
        grouped: dict[tuple[tuple[str, ...], str], list[tuple[str, str, np.ndarray]]] = {}
        kept = self._stored_vectors(wanted)
        fresh = []
        for item, path, text in wanted:
            if (item, path, text) in kept:
                grouped.setdefault(item, []).append((path, _text_hash(text), kept[(item, path, text)]))
            else:
                fresh.append((item, path, text))
        if not fresh:
            return grouped
        vectors = np.asarray(self.embeddings.embed_documents([text for *_, text in fresh]), dtype=np.float32)
        if vectors.shape[1] != self._dims:
            raise RetinueError(f"the embedding function returned {vectors.shape[1]}-d vectors, not {self._dims}-d")
        faiss.normalize_L2(vectors)
        for (item, path, text), vector in zip(fresh, vectors, strict=True):
            grouped.setdefault(item, []).append((path, _text_hash(text), vector))
        return grouped

    def _stored_vectors(
        self, wanted: list[tuple[tuple[tuple[str, ...], str], str, str]]
    ) -> dict[tuple[tuple[tuple[str, ...], str], str, str], np.ndarray]:
        """The stored vector of each wanted (item, path, text) whose stored text at that path is the same."""
        kept = {}
        with self._lock:
            for item, path, text in wanted:
                row = self._conn.execute(
                    "SELECT embedding, text_hash FROM vectors WHERE namespace = ? AND key = ? AND path = ?",
                    (_ns_text(item[0]), item[1], path),
                ).fetchone()
                if row is not None and row[1] == _text_hash(text):
                    kept[(item, path, text)] = np.frombuffer(row[0], dtype=np.float32).copy()
        return kept

    # -- writes --------------------------------------------------------------------------------

    def _apply_puts(
        self, puts: list[PutOp], vectors: dict[tuple[tuple[str, ...], str], list[tuple[str, str, np.ndarray]]]
    ) -> None:
        removed: list[int] = []
        added: list[tuple[int, tuple[str, str], np.ndarray]] = []
        now = _now()
        with self._conn:  # one transaction: all of the batch's writes, or none
            for op in puts:
                ns = _ns_text(op.namespace)
                old = self._conn.execute(
                    "SELECT id FROM vectors WHERE namespace = ? AND key = ?", (ns, op.key)
                ).fetchall()
                removed.extend(row[0] for row in old)
                self._conn.execute("DELETE FROM vectors WHERE namespace = ? AND key = ?", (ns, op.key))
                if op.value is None:
                    self._conn.execute("DELETE FROM items WHERE namespace = ? AND key = ?", (ns, op.key))
                    continue
                self._conn.execute(
                    "INSERT INTO items (namespace, key, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (namespace, key) DO UPDATE SET "
                    "value = excluded.value, updated_at = excluded.updated_at",
                    (ns, op.key, json.dumps(dict(op.value)), now, now),
                )
                for path, text_hash, vector in vectors.get((op.namespace, op.key), []):
                    cursor = self._conn.execute(
                        "INSERT INTO vectors (namespace, key, path, embedding, text_hash) VALUES (?, ?, ?, ?, ?)",
                        (ns, op.key, path, vector.tobytes(), text_hash),
                    )
                    added.append((int(cursor.lastrowid or 0), (ns, op.key), vector))
            before = self._sequence()  # inside the write transaction: no other writer until it commits
            self._conn.execute(
                "INSERT INTO meta VALUES ('seq', '1') "
                "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
        if before == self._indexed_sequence:  # else another process wrote since the catch-up: the next one syncs
            self._indexed_sequence = before + 1
        self._vectors.remove(removed)
        self._vectors.add(added)

    # -- reads ---------------------------------------------------------------------------------

    @staticmethod
    def _item(row: Sequence[Any], score: float | None = None, searched: bool = False) -> Item:
        namespace, key, value, created, updated = row
        fields = {
            "namespace": _ns_tuple(namespace),
            "key": key,
            "value": json.loads(value),
            "created_at": datetime.fromisoformat(created),
            "updated_at": datetime.fromisoformat(updated),
        }
        return SearchItem(**fields, score=score) if searched else Item(**fields)

    def _get(self, op: GetOp) -> Item | None:
        row = self._conn.execute(
            "SELECT namespace, key, value, created_at, updated_at FROM items WHERE namespace = ? AND key = ?",
            (_ns_text(op.namespace), op.key),
        ).fetchone()
        return None if row is None else self._item(row)

    @staticmethod
    def _prefix_condition(prefix: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """SQL matching whole-label namespace prefixes as an index range: "a.b" or "a.b." <= ns < "a.b/"."""
        if not prefix:
            return "1 = 1", ()
        text = _ns_text(prefix)
        return "(namespace = ? OR (namespace > ? AND namespace < ?))", (text, text + _SEP, text + "/")

    def _matching_rows(self, op: SearchOp, where: str = "1 = 1") -> list[tuple[Any, ...]]:
        """Items under the prefix that pass the filter, newest first (values are loaded to filter them)."""
        condition, params = self._prefix_condition(op.namespace_prefix)
        sql = (
            f"SELECT namespace, key, value, created_at, updated_at FROM items i WHERE {condition} AND {where} "
            "ORDER BY updated_at DESC, namespace, key"
        )
        if not op.filter:
            return self._conn.execute(sql + " LIMIT ? OFFSET ?", (*params, op.limit, op.offset)).fetchall()
        rows = [
            row
            for row in self._conn.execute(sql, params)
            if all(_compare_values(json.loads(row[2]).get(k), v) for k, v in op.filter.items())
        ]
        return rows[op.offset : op.offset + op.limit]

    def _allowed_vector_ids(self, op: SearchOp) -> np.ndarray | None:
        """Vector ids the search may return; None when every vector qualifies (no selector needed)."""
        if not op.namespace_prefix and not op.filter:
            return None
        if not op.filter:
            return self._vectors.ids_under(_ns_text(op.namespace_prefix), _SEP)
        matching = self._matching_rows(op._replace(limit=1 << 62, offset=0))
        return self._vectors.ids_of({(row[0], row[1]) for row in matching})

    def _search(self, op: SearchOp, query: np.ndarray | None) -> list[SearchItem]:
        if query is None or len(self._vectors) == 0:
            return [self._item(row, searched=True) for row in self._matching_rows(op)]  # type: ignore[misc]
        scored = self._vectors.best_per_item(query, op.offset + op.limit, self._allowed_vector_ids(op))
        hits = [(score, key) for key, score in scored.items()][op.offset : op.offset + op.limit]
        results = [self._item(row, score, searched=True) for score, row in self._rows_for(hits)]
        if len(results) < op.limit:
            # Like InMemoryStore: items that have no embedding follow the scored ones, unscored.
            unembedded = self._matching_rows(
                op._replace(limit=op.limit - len(results), offset=0),
                where="NOT EXISTS (SELECT 1 FROM vectors v WHERE v.namespace = i.namespace AND v.key = i.key)",
            )
            results.extend(self._item(row, searched=True) for row in unembedded)
        return results  # type: ignore[return-value]

    def _rows_for(self, hits: list[tuple[float, tuple[str, str]]]) -> list[tuple[float, tuple[Any, ...]]]:
        rows = []
        for score, (ns, key) in hits:
            row = self._conn.execute(
                "SELECT namespace, key, value, created_at, updated_at FROM items WHERE namespace = ? AND key = ?",
                (ns, key),
            ).fetchone()
            if row is not None:
                rows.append((score, row))
        return rows

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        namespaces = [_ns_tuple(row[0]) for row in self._conn.execute("SELECT DISTINCT namespace FROM items")]
        if op.match_conditions:
            namespaces = [ns for ns in namespaces if all(_does_match(c, ns) for c in op.match_conditions)]
        if op.max_depth is not None:
            namespaces = sorted({ns[: op.max_depth] for ns in namespaces})
        else:
            namespaces = sorted(namespaces)
        return namespaces[op.offset : op.offset + op.limit]
