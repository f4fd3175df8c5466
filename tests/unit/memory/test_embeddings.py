"""MiniLM sentence embeddings: a text embedded before in the process is served from the vector cache, with the
vector the model gives it, and the cache keeps only its most recent texts."""

import numpy as np
import pytest

from retinue.memory import embeddings
from retinue.memory.embeddings import DIMENSIONS, MiniLMEmbeddings, _VectorCache


class CountingModel:
    """Stands in for the sentence encoder: a vector from each text's length, and a record of what it encoded."""

    def __init__(self) -> None:
        self.encoded: list[list[str]] = []

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        self.encoded.append(list(texts))
        return np.array([[len(text), 1.0] for text in texts], dtype=np.float32)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingModel:
    model = CountingModel()
    monkeypatch.setattr(embeddings, "_load_model", lambda: model)
    monkeypatch.setattr(embeddings, "VECTORS", _VectorCache(capacity=3))
    return model


def test_only_texts_not_seen_before_are_encoded_once_each(counting: CountingModel) -> None:
    embed = MiniLMEmbeddings()
    assert embed.embed_documents(["a", "bb", "a"]) == [[1, 1], [2, 1], [1, 1]]
    assert embed.embed_documents(["bb", "ccc"]) == [[2, 1], [3, 1]]
    assert counting.encoded == [["a", "bb"], ["ccc"]]
    assert embed.embed_documents([]) == [] and len(counting.encoded) == 2
    assert embeddings.embed([]).shape == (0, DIMENSIONS) and len(counting.encoded) == 2
    assert embeddings.embed(["a", "ccc"]).dtype == np.float32 and len(counting.encoded) == 2


def test_the_least_recently_used_text_is_forgotten_first(counting: CountingModel) -> None:
    embed = MiniLMEmbeddings()
    embed.embed_documents(["a", "bb", "ccc"])
    embed.embed_query("a")  # "a" is used again, so "bb" is now the oldest
    embed.embed_documents(["dddd"])
    embed.embed_documents(["a", "bb"])
    assert counting.encoded[-1] == ["bb"]


def test_a_cached_vector_is_the_one_the_real_model_gives() -> None:
    embeddings.VECTORS.clear()
    texts = ["Apple beat earnings expectations.", "Shares of Tesla fell 5% on delivery numbers."]
    first = np.asarray(MiniLMEmbeddings().embed_documents(texts))
    direct = embeddings._load_model().encode(texts, batch_size=64)
    again = np.asarray(MiniLMEmbeddings().embed_documents(texts[::-1]))
    assert first.shape == (2, DIMENSIONS) and np.allclose(first, direct, atol=1e-6)
    assert np.array_equal(again, first[::-1])
