"""One suite, every store: FaissStore (in memory and on disk) and LangGraph's InMemoryStore."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from retinue.memory.faiss_store import FaissStore
from tests.conftest import HashEmbeddings


@pytest.fixture(params=["faiss-memory", "faiss-disk", "langgraph-inmemory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    index = {"dims": 64, "embed": HashEmbeddings(64), "fields": ["text"]}
    if request.param == "faiss-memory":
        made: BaseStore = FaissStore(None, index=index)
    elif request.param == "faiss-disk":
        made = FaissStore(tmp_path / "store", index=index)
    else:
        made = InMemoryStore(index=index)
    yield made
    if isinstance(made, FaissStore):
        made.close()


def test_put_get_update_delete(store: BaseStore) -> None:
    store.put(("users", "u1"), "prefs", {"text": "likes tea", "n": 1})
    item = store.get(("users", "u1"), "prefs")
    assert item is not None and item.value == {"text": "likes tea", "n": 1}
    assert item.namespace == ("users", "u1") and item.key == "prefs"
    created = item.created_at
    store.put(("users", "u1"), "prefs", {"text": "likes coffee", "n": 2})
    updated = store.get(("users", "u1"), "prefs")
    assert updated is not None and updated.value["n"] == 2 and updated.updated_at >= created
    store.delete(("users", "u1"), "prefs")
    assert store.get(("users", "u1"), "prefs") is None
    assert store.get(("nobody",), "prefs") is None


def test_search_by_prefix_and_filter(store: BaseStore) -> None:
    store.put(("fincon", "tsla"), "a", {"text": "tesla delivery beat", "kind": "news", "score": 3})
    store.put(("fincon", "tsla"), "b", {"text": "tesla recall", "kind": "news", "score": -2})
    store.put(("fincon", "aapl"), "c", {"text": "apple earnings", "kind": "filing", "score": 1})
    store.put(("effiqa",), "d", {"text": "movie director", "kind": "news", "score": 0})
    assert {i.key for i in store.search(("fincon",))} == {"a", "b", "c"}
    assert {i.key for i in store.search(("fincon", "tsla"))} == {"a", "b"}
    assert {i.key for i in store.search((), filter={"kind": "news"})} == {"a", "b", "d"}
    assert {i.key for i in store.search(("fincon",), filter={"score": {"$gt": 0}})} == {"a", "c"}
    assert {i.key for i in store.search(("fincon",), filter={"kind": {"$ne": "news"}})} == {"c"}
    assert len(store.search((), limit=2)) == 2
    assert len(store.search((), limit=2, offset=3)) == 1
    # A prefix must match whole labels, not the start of a label.
    store.put(("fin",), "e", {"text": "x"})
    assert {i.key for i in store.search(("fin",))} == {"e"}


def test_vector_search_ranks_by_similarity(store: BaseStore) -> None:
    store.put(("docs",), "tea", {"text": "green tea leaves"})
    store.put(("docs",), "car", {"text": "electric car battery"})
    store.put(("docs",), "ship", {"text": "container ship port"})
    store.put(("other",), "car2", {"text": "electric car battery"})
    hits = store.search(("docs",), query="battery for an electric car")
    assert hits[0].key == "car" and hits[0].score is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.key for h in hits} == {"tea", "car", "ship"}
    top = store.search((), query="electric car battery", limit=2)
    assert {h.key for h in top} == {"car", "car2"} and top[0].score == pytest.approx(1.0, abs=1e-5)
    assert store.search(("docs",), query="electric car", filter={"text": "green tea leaves"})[0].key == "tea"


def test_items_without_the_indexed_field_still_come_back(store: BaseStore) -> None:
    store.put(("docs",), "scored", {"text": "apple pie"})
    store.put(("docs",), "unscored", {"title": "no text field"})
    store.put(("docs",), "skipped", {"text": "apple tart"}, index=False)
    hits = store.search(("docs",), query="apple pie", limit=5)
    assert hits[0].key == "scored"
    assert {h.key for h in hits} == {"scored", "unscored", "skipped"}
    assert all(h.score is None for h in hits if h.key != "scored")


def test_update_replaces_the_vector(store: BaseStore) -> None:
    store.put(("docs",), "k", {"text": "red apple"})
    store.put(("docs",), "k", {"text": "blue ocean"})
    store.put(("docs",), "other", {"text": "red apple"})
    hits = store.search(("docs",), query="blue ocean", limit=1)
    assert hits[0].key == "k" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    store.delete(("docs",), "other")
    assert [h.key for h in store.search(("docs",), query="red apple")] == ["k"]


def test_list_namespaces(store: BaseStore) -> None:
    for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "e"), ("x", "b")]:
        store.put(ns, "k", {"text": "v"})
    assert store.list_namespaces() == [("a", "b", "c"), ("a", "b", "d"), ("a", "e"), ("x", "b")]
    assert store.list_namespaces(prefix=("a",)) == [("a", "b", "c"), ("a", "b", "d"), ("a", "e")]
    assert store.list_namespaces(suffix=("b",)) == [("x", "b")]
    assert store.list_namespaces(prefix=("a", "*", "d")) == [("a", "b", "d")]
    assert store.list_namespaces(max_depth=1) == [("a",), ("x",)]
    assert store.list_namespaces(limit=1, offset=1) == [("a", "b", "d")]


def test_batch_reads_see_the_state_before_its_writes(store: BaseStore) -> None:
    from langgraph.store.base import GetOp, PutOp

    store.put(("ns",), "k", {"text": "old"})
    results = store.batch([PutOp(("ns",), "k", {"text": "new"}), GetOp(("ns",), "k")])
    assert results[0] is None and results[1] is not None and results[1].value == {"text": "old"}
    got = store.get(("ns",), "k")
    assert got is not None and got.value == {"text": "new"}


async def _async_roundtrip(store: BaseStore) -> list[str]:
    await store.aput(("async",), "k", {"text": "async text"})
    hits = await store.asearch(("async",), query="async text")
    return [h.key for h in hits]


def test_async_api(store: BaseStore) -> None:
    import asyncio

    assert asyncio.run(_async_roundtrip(store)) == ["k"]
