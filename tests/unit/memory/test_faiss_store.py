import sqlite3
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.memory.faiss_store import FaissStore
from retinue.memory.vector_index import INDEX_FILE
from tests.conftest import HashEmbeddings


def _index(dims: int = 64) -> dict:
    return {"dims": dims, "embed": HashEmbeddings(dims), "fields": ["text"]}


def test_reopen_uses_the_saved_index(tmp_path: Path) -> None:
    with FaissStore(tmp_path, index=_index()) as store:
        for i in range(50):
            store.put(("docs",), f"k{i}", {"text": f"document number {i}"})
    assert (tmp_path / INDEX_FILE).exists()
    with FaissStore(tmp_path, index=_index()) as reopened:
        assert len(reopened) == 50
        assert reopened.search(("docs",), query="document number 7", limit=1)[0].key == "k7"


def test_a_stale_index_is_rebuilt_from_stored_vectors(tmp_path: Path) -> None:
    with FaissStore(tmp_path, index=_index()) as store:
        store.put(("docs",), "a", {"text": "alpha"})
    # Writes after the index was saved, from a process that never closed cleanly:
    crashed = FaissStore(tmp_path, index=_index())
    crashed.put(("docs",), "b", {"text": "beta"})
    crashed._conn.close()
    with FaissStore(tmp_path, index=_index()) as reopened:
        assert reopened.search(("docs",), query="beta", limit=1)[0].key == "b"
        assert len(reopened._vectors) == 2


def test_two_stores_on_one_database_see_each_others_writes_and_save_no_stale_index(tmp_path: Path) -> None:
    """Two processes sharing a store (the chat terminal and the chat page): two connections stand in."""
    first, second = FaissStore(tmp_path, index=_index()), FaissStore(tmp_path, index=_index())
    first.put(("docs",), "a", {"text": "alpha"})
    second.put(("docs",), "b", {"text": "beta"})
    second.put(("docs",), "a", {"text": "gamma"})  # replaces the vector `first` added
    assert first.search(("docs",), query="beta", limit=1)[0].key == "b"
    assert [item.key for item in first.search(("docs",), query="gamma", limit=2)] == ["a", "b"]
    assert len(first._vectors) == len(second._vectors) == 2
    first.delete(("docs",), "b")
    assert [item.key for item in second.search(("docs",), query="beta", limit=5)] == ["a"]
    second.close()
    first.put(("docs",), "c", {"text": "delta"})  # after `second` saved its index: that copy is stale now
    first._conn.close()  # `first` ends without saving
    with FaissStore(tmp_path, index=_index()) as reopened:
        assert sorted(item.key for item in reopened.search(("docs",), query="delta", limit=5)) == ["a", "c"]
        assert len(reopened._vectors) == 2


def test_a_store_that_closes_behind_another_writer_saves_its_index_as_stale(tmp_path: Path) -> None:
    with FaissStore(tmp_path, index=_index()) as store:
        store.put(("docs",), "z", {"text": "zeta"})
    idle, writer = FaissStore(tmp_path, index=_index()), FaissStore(tmp_path, index=_index())
    writer.put(("docs",), "a", {"text": "alpha"})
    writer._conn.close()  # ends without saving
    idle.close()  # its index never saw "a": saved, it must not pass for current
    with FaissStore(tmp_path, index=_index()) as reopened:
        assert [item.key for item in reopened.search(("docs",), query="alpha", limit=1)] == ["a"]
        assert len(reopened._vectors) == 2


def test_a_corrupt_index_file_is_only_a_cache(tmp_path: Path) -> None:
    with FaissStore(tmp_path, index=_index()) as store:
        store.put(("docs",), "a", {"text": "alpha"})
    (tmp_path / INDEX_FILE).write_bytes(b"garbage")
    with FaissStore(tmp_path, index=_index()) as reopened:
        assert reopened.search(("docs",), query="alpha")[0].key == "a"


def test_dimension_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    FaissStore(tmp_path, index=_index(64)).close()
    with pytest.raises(RetinueError, match="64-d vectors, not 32-d"):
        FaissStore(tmp_path, index=_index(32))


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "items.sqlite").write_bytes(b"not sqlite at all, not at all" * 100)
    with pytest.raises(RetinueError, match="cannot open the memory store"):
        FaissStore(tmp_path, index=_index())


def test_writes_are_committed_before_put_returns(tmp_path: Path) -> None:
    store = FaissStore(tmp_path, index=_index())
    store.put(("ns",), "k", {"text": "durable"})
    other = sqlite3.connect(tmp_path / "items.sqlite")
    assert other.execute("SELECT value FROM items").fetchall() == [('{"text": "durable"}',)]
    store.close()


def test_store_without_index_still_stores_and_lists(tmp_path: Path) -> None:
    with FaissStore(tmp_path) as store:
        store.put(("a",), "k", {"v": 1})
        assert store.search(("a",))[0].value == {"v": 1}
        assert store.search(("a",), query="ignored without an index")[0].key == "k"


class CountingEmbeddings(HashEmbeddings):
    def __init__(self) -> None:
        super().__init__(16)
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_updating_other_fields_keeps_the_vector_without_embedding_again(tmp_path: Path) -> None:
    embeddings = CountingEmbeddings()
    with FaissStore(tmp_path, index={"dims": 16, "embed": embeddings, "fields": ["text"]}) as store:
        store.put(("m",), "a", {"text": "tesla deliveries", "importance": 50})
        store.put(("m",), "a", {"text": "tesla deliveries", "importance": 46})
        assert embeddings.embedded == ["tesla deliveries"]
        store.put(("m",), "a", {"text": "tesla recall", "importance": 46})
        assert embeddings.embedded == ["tesla deliveries", "tesla recall"]
        (hit,) = store.search(("m",), query="tesla recall")
        assert hit.value["importance"] == 46 and hit.score == pytest.approx(1.0, abs=1e-5)
