import math
from datetime import date, timedelta

import pytest

from retinue.errors import RetinueError
from retinue.memory.faiss_store import FaissStore
from retinue.memory.layered import LAYERS, LayeredMemory, NewMemory, decayed_importance, recency
from tests.conftest import HashEmbeddings

DAY = date(2023, 1, 2)


@pytest.fixture
def memory() -> LayeredMemory:
    store = FaissStore(None, index={"dims": 64, "embed": HashEmbeddings(64), "fields": ["text"]})
    return LayeredMemory(store, ("fincon", "news_analyst"))


def test_formulas() -> None:
    short, mid, long = LAYERS
    assert recency(short, 3) == pytest.approx(math.exp(-1))
    assert recency(mid, 90) == pytest.approx(math.exp(-1)) and recency(long, 0) == 1.0
    assert decayed_importance(short, 50, 2) == pytest.approx(50 * 0.92**2)
    assert decayed_importance(mid, 50, 1) == pytest.approx(50 * 0.967)
    assert decayed_importance(long, 50, 10) == pytest.approx(50 * 0.988**10)


def test_ranking_is_similarity_plus_recency_plus_importance(memory: LayeredMemory) -> None:
    memory.add("tesla deliveries beat estimates", DAY, importance=40)
    memory.add("apple launches a new phone", DAY, importance=90)
    later = DAY + timedelta(days=2)
    hits = memory.retrieve("tesla deliveries beat estimates", later, k=2)
    assert hits[0].text == "tesla deliveries beat estimates"
    top = hits[0]
    assert top.recency == pytest.approx(math.exp(-2 / 3))
    assert top.importance == pytest.approx(40 * 0.92**2)
    assert top.score == pytest.approx(top.similarity + top.recency + top.importance / 100)
    assert top.similarity == pytest.approx(1.0, abs=1e-5)
    assert len(memory.retrieve("anything", later, k=1)) == 1


def test_promotion_and_removal(memory: LayeredMemory) -> None:
    important = memory.add("fed raises rates", DAY, importance=70)
    minor = memory.add("minor rumour", DAY, importance=5.2)
    stale = memory.add("old note", DAY, importance=50)
    aged = memory.advance(DAY + timedelta(days=1))
    assert important in aged.promoted and memory.layer_of(important) == "mid"  # 70 * 0.92 = 64.4 >= 60
    assert minor in aged.removed and memory.layer_of(minor) is None  # 5.2 * 0.92 < 5
    assert memory.layer_of(stale) == "short"
    aged = memory.advance(DAY + timedelta(days=10))  # recency exp(-10/3) < 0.05
    assert stale in aged.removed
    assert memory.layer_of(important) == "mid"  # its recency restarted in the mid layer


def test_one_promotion_per_day(memory: LayeredMemory) -> None:
    key = memory.add("huge news", DAY, importance=99)
    memory.advance(DAY + timedelta(days=1))
    assert memory.layer_of(key) == "mid"
    memory.advance(DAY + timedelta(days=2))  # 99 * .92 * .967 = 88.1 >= 80
    assert memory.layer_of(key) == "long"


def test_positive_feedback_adds_importance(memory: LayeredMemory) -> None:
    key = memory.add("useful insight", DAY, importance=30)
    memory.reward(key, DAY + timedelta(days=1))
    memory.reward(key, DAY + timedelta(days=1))  # a replayed day rewards once
    recalled = memory.retrieve("useful insight", DAY + timedelta(days=1), k=1)[0]
    assert recalled.importance == pytest.approx(30 * 0.92 + 5)
    with pytest.raises(RetinueError, match="no memory"):
        memory.reward("missing", DAY)
    with pytest.raises(RetinueError, match="unknown memory layer"):
        memory.add("x", DAY, importance=1, layer="attic")


def test_adding_again_and_advancing_twice_to_the_same_day_change_nothing(memory: LayeredMemory) -> None:
    batch = [NewMemory("a", "tesla deliveries beat", DAY, 99), NewMemory("b", "filing text", DAY, 69, "mid")]
    assert memory.add_new(batch) == ["a", "b"]
    memory.advance(DAY + timedelta(days=1))
    assert memory.add_new(batch) == []  # "a" was promoted to mid; it is not added back to short
    assert memory.layer_of("a") == "mid"
    before = {r.key: r for r in memory.retrieve("tesla", DAY + timedelta(days=1), k=5)}
    memory.advance(DAY + timedelta(days=1))  # a replayed day: no second promotion, no second decay
    after = {r.key: r for r in memory.retrieve("tesla", DAY + timedelta(days=1), k=5)}
    assert memory.layer_of("a") == "mid" and before == after
