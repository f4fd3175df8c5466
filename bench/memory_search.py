"""FaissStore vs LangGraph's InMemoryStore: search latency at 10k and 100k items, and recall@10.

Both stores hold the same items and the same 384-d vectors (MiniLM-sized), and answer the same queries;
the query embedding is precomputed so that only the search itself is timed. Recall@10 compares
FaissStore's top 10 with exact (numpy) cosine search. Targets: >= 20x faster at 100k, recall@10 >= 0.95.

    python bench/memory_search.py [--sizes 10000 100000] [--queries 50] [--out DIR]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import finish
from langchain_core.embeddings import Embeddings
from langgraph.store.memory import InMemoryStore

from retinue.memory.faiss_store import FaissStore

DIMS = 384


class Precomputed(Embeddings):
    """Texts are "v<i>"; their embedding is row i of a fixed matrix (so both stores index identical vectors)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors[[int(t[1:]) for t in texts]].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def clustered_unit_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sentence embeddings are clustered, not uniform: a mixture of 200 topics with noise."""
    centres = rng.normal(size=(200, DIMS)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(store: object, n: int, batch: int = 5000) -> float:
    from langgraph.store.base import PutOp

    started = time.perf_counter()
    for start in range(0, n, batch):
        store.batch(  # type: ignore[attr-defined]
            [
                PutOp(("memories", f"agent{i % 4}"), f"k{i}", {"text": f"v{i}", "i": i})
                for i in range(start, min(n, start + batch))
            ]
        )
    return time.perf_counter() - started


def timed_search(store: object, query_ids: list[int], limit: int = 10) -> tuple[float, list[list[int]]]:
    results = []
    started = time.perf_counter()
    for q in query_ids:
        hits = store.search(("memories",), query=f"v{q}", limit=limit)  # type: ignore[attr-defined]
        results.append([h.value["i"] for h in hits])
    return (time.perf_counter() - started) / len(query_ids), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    report: dict[str, float] = {}
    for n in args.sizes:
        # Queries are perturbed copies of stored vectors, appended after the items.
        items = clustered_unit_vectors(n, rng)
        noisy = items[rng.integers(0, n, args.queries)] + 0.3 * rng.normal(size=(args.queries, DIMS)).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        vectors = np.vstack([items, noisy]).astype(np.float32)
        embed = Precomputed(vectors)
        index = {"dims": DIMS, "embed": embed, "fields": ["text"]}
        query_ids = list(range(n, n + args.queries))
        exact = [list(np.argsort(-(items @ vectors[q]))[:10]) for q in query_ids]

        with tempfile.TemporaryDirectory() as folder:
            faiss_store = FaissStore(Path(folder), index=index)
            faiss_fill = fill(faiss_store, n)
            memory_store = InMemoryStore(index=index)
            memory_fill = fill(memory_store, n)
            timed_search(faiss_store, query_ids[:3])  # warm-up
            faiss_latency, faiss_hits = timed_search(faiss_store, query_ids)
            memory_latency, memory_hits = timed_search(memory_store, query_ids)
            faiss_store.close()
        recall = float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(faiss_hits, exact, strict=True)]))
        memory_recall = float(np.mean([len(set(m) & set(e)) / 10 for m, e in zip(memory_hits, exact, strict=True)]))
        speedup = memory_latency / faiss_latency
        print(
            f"{n:>7} items: FaissStore {faiss_latency * 1000:8.2f} ms/search, InMemoryStore "
            f"{memory_latency * 1000:8.2f} ms/search -> {speedup:6.1f}x faster; recall@10 {recall:.3f} "
            f"(InMemoryStore {memory_recall:.3f}); fill {faiss_fill:.1f} s vs {memory_fill:.1f} s"
        )
        report |= {
            f"faiss_search_ms_{n}": round(faiss_latency * 1000, 3),
            f"inmemory_search_ms_{n}": round(memory_latency * 1000, 3),
            f"speedup_ratio_{n}": round(speedup, 2),
            f"faiss_recall_at_10_{n}": round(recall, 4),
        }
    biggest = max(args.sizes)
    met = report[f"speedup_ratio_{biggest}"] >= 20 and report[f"faiss_recall_at_10_{biggest}"] >= 0.95
    finish(report, f">= 20x at {biggest}, recall@10 >= 0.95", met, args.out)


if __name__ == "__main__":
    main()
