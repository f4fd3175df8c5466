"""The faiss side of `FaissStore`: unit vectors by id, the item that owns each, best-per-item search.

A derived accelerator over the store's `vectors` table, which is the truth. `save` writes the index beside
the database with the write sequence it reflects; `open` uses a saved copy only if that sequence matches
the database's, and otherwise rebuilds from the stored embeddings (no re-embedding). `catch_up` takes in
what other processes sharing the database wrote since.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
INDEX_META_FILE = "vectors.json"
# An item, as the store names it: (namespace text, key).
Owner = tuple[str, str]


def _single_thread_search(index: faiss.Index, query: np.ndarray, k: int, params: Any) -> tuple[np.ndarray, np.ndarray]:
    # One query is faster on one thread: OpenMP start-up and contention cost more than the scan saves
    # (measured 1.7 ms vs 5.9 ms at 10k vectors on 2 cores). The setting is per calling thread.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(query.reshape(1, -1), k, params=params)  # type: ignore[no-any-return]
    finally:
        faiss.omp_set_num_threads(threads)


def _saved_index(folder: Path | None, dims: int, sequence: int) -> faiss.IndexIDMap2 | None:
    """The index saved in `folder`, if it reflects write `sequence` and has `dims` dimensions."""
    if folder is None or not (folder / INDEX_FILE).exists() or not (folder / INDEX_META_FILE).exists():
        return None
    try:
        saved = json.loads((folder / INDEX_META_FILE).read_text())
        if saved.get("seq") != sequence:
            return None
        index: faiss.IndexIDMap2 = faiss.read_index(str(folder / INDEX_FILE))  # type: ignore[assignment]
    except (ValueError, RuntimeError):
        return None  # A torn or foreign index file is only a cache: the caller rebuilds.
    return index if index.d == (dims or index.d) else None


def _built_index(conn: sqlite3.Connection, dims: int) -> faiss.IndexIDMap2:
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dims or 1))
    if not dims:
        return index
    rows = conn.execute("SELECT id, embedding FROM vectors").fetchall()
    if rows:
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), -1)
        index.add_with_ids(vectors, ids)
    return index


class VectorIndex:
    """Inner-product search over unit vectors, answered per owning item. Not thread-safe: the store locks."""

    def __init__(self, index: faiss.IndexIDMap2) -> None:
        self._index = index
        # Which item owns each vector, and each namespace's vectors: kept in memory so that a search
        # needs no SQL to restrict itself to a prefix or to name its hits.
        self._owner: dict[int, Owner] = {}
        self._by_namespace: dict[str, set[int]] = {}

    @classmethod
    def open(cls, conn: sqlite3.Connection, dims: int, folder: Path | None, sequence: int) -> "VectorIndex":
        """The index over `conn`'s vectors table: the copy saved in `folder` if current, else rebuilt."""
        vectors = cls(_saved_index(folder, dims, sequence) or _built_index(conn, dims))
        for vid, ns, key in conn.execute("SELECT id, namespace, key FROM vectors"):
            vectors._track(vid, (ns, key))
        return vectors

    def save(self, folder: Path, sequence: int) -> None:
        """Write the index and the sequence it reflects, each atomically; a later `open` skips the rebuild."""
        tmp = folder / (INDEX_FILE + ".tmp")
        faiss.write_index(self._index, str(tmp))
        tmp.replace(folder / INDEX_FILE)
        meta_tmp = folder / (INDEX_META_FILE + ".tmp")
        meta_tmp.write_text(json.dumps({"seq": sequence, "ntotal": len(self)}))
        meta_tmp.replace(folder / INDEX_META_FILE)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _track(self, vid: int, owner: Owner) -> None:
        self._owner[vid] = owner
        self._by_namespace.setdefault(owner[0], set()).add(vid)

    def remove(self, vids: list[int]) -> None:
        """Drop these vectors; ids this index never held (another process's, not yet caught up) are skipped."""
        for vid in vids:
            owner = self._owner.pop(vid, None)
            if owner is not None:
                self._by_namespace[owner[0]].discard(vid)
        if vids:
            self._index.remove_ids(np.asarray(vids, dtype=np.int64))  # type: ignore[arg-type]

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Match `conn`'s vectors table again after other processes wrote to it: add the vectors it gained
        (their stored embeddings, no re-embedding) and drop those it lost."""
        current = {vid: (ns, key) for vid, ns, key in conn.execute("SELECT id, namespace, key FROM vectors")}
        self.remove([vid for vid in self._owner if vid not in current])
        gained = [vid for vid in current if vid not in self._owner]
        for start in range(0, len(gained), 500):  # SQLite takes a bounded number of parameters
            chunk = gained[start : start + 500]
            marks = ", ".join("?" * len(chunk))  # only placeholders go into the query text; the ids are bound
            rows = conn.execute(f"SELECT id, embedding FROM vectors WHERE id IN ({marks})", chunk).fetchall()
            self.add([(vid, current[vid], np.frombuffer(blob, dtype=np.float32)) for vid, blob in rows])

    def add(self, vectors: list[tuple[int, Owner, np.ndarray]]) -> None:
        """Vectors by id (never one in use: the table's AUTOINCREMENT never reuses an id) and owner."""
        for vid, owner, _ in vectors:
            self._track(vid, owner)
        if vectors:
            self._index.add_with_ids(
                np.stack([vector for *_, vector in vectors]), np.asarray([vid for vid, *_ in vectors], dtype=np.int64)
            )

    def ids_under(self, prefix: str, separator: str) -> np.ndarray | None:
        """The ids of vectors whose namespace is `prefix` or below it; None when that is every vector."""
        groups = [vids for ns, vids in self._by_namespace.items() if ns == prefix or ns.startswith(prefix + separator)]
        if sum(len(vids) for vids in groups) == len(self):
            return None
        return np.fromiter((vid for vids in groups for vid in vids), dtype=np.int64)

    def ids_of(self, owners: set[Owner]) -> np.ndarray:
        namespaces = {ns for ns, _ in owners}
        return np.fromiter(
            (vid for ns in namespaces for vid in self._by_namespace.get(ns, ()) if self._owner[vid] in owners),
            dtype=np.int64,
        )

    def best_per_item(self, query: np.ndarray, wanted: int, allowed: np.ndarray | None) -> dict[Owner, float]:
        """Best score per item, best first, for at least `wanted` items where that many exist; only the
        vectors in `allowed` when given."""
        params = None
        available = len(self)
        if allowed is not None:
            if allowed.size == 0:
                return {}
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
            available = int(allowed.size)
        k = min(available, max(wanted, 1) * 2)
        while True:
            scores, ids_found = _single_thread_search(self._index, query, k, params)
            best: dict[Owner, float] = {}
            for score, vid in zip(scores[0], ids_found[0], strict=True):
                if vid < 0:
                    continue
                owner = self._owner[int(vid)]
                if owner not in best:  # results come best first, so the first score is the max
                    best[owner] = float(score)
            if len(best) >= wanted or k >= available:
                return best
            k = min(available, k * 2)
