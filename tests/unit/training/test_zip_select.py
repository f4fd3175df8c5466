"""ZIP selection: the incremental scoring reproduces a direct recomputation; it lowers the ratio."""

import json
import random
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.training.zip_select import compression_ratio, load_pool, zip_select


def _pool(n: int, seed: int = 0) -> list[str]:
    """Random sentences of 12 words, and every third item the same sentence again (redundancy)."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    repeated = " ".join(rng.sample(words, 12))
    return [repeated if i % 3 == 0 else " ".join(rng.sample(words, 12)) for i in range(n)]


def _direct(texts: list[str], budget: int, k1: int, k2: int, k3: int) -> list[int]:
    """ZIP by recompressing whole candidate sets each time: slow, obviously right."""
    chosen: list[int] = []
    scores = {i: compression_ratio([t]) for i, t in enumerate(texts)}
    while len(chosen) < budget:
        top = sorted(scores, key=lambda i: (scores[i], i))[:k1]
        for i in top:
            scores[i] = compression_ratio([texts[j] for j in chosen] + [texts[i]])
        shortlist = sorted(top, key=lambda i: (scores[i], i))[:k2]
        for _ in range(min(k3, budget - len(chosen), len(shortlist))):
            best = min(shortlist, key=lambda i: (compression_ratio([texts[j] for j in [*chosen, i]]), i))
            shortlist.remove(best)
            chosen.append(best)
            del scores[best]
    return chosen


@pytest.mark.parametrize("budget, k1, k2, k3", [(10, 20, 8, 3), (15, 40, 10, 5), (7, 7, 7, 7)])
def test_incremental_selection_equals_the_direct_computation(budget: int, k1: int, k2: int, k3: int) -> None:
    texts = _pool(40)
    selection = zip_select(texts, budget, k1, k2, k3)
    assert selection.indices == _direct(texts, budget, k1, k2, k3)
    assert selection.ratio == pytest.approx(compression_ratio([texts[i] for i in selection.indices]))


def test_selection_is_less_redundant_than_random_subsets() -> None:
    texts = _pool(300, seed=1)
    selection = zip_select(texts, 60, k1=300, k2=60, k3=20)
    random_ratios = [compression_ratio(random.Random(s).sample(texts, 60)) for s in range(5)]
    assert selection.ratio < min(random_ratios)
    assert sum(texts[i] == texts[0] for i in selection.indices) <= 1  # the repeated sentence at most once


def test_a_cost_budget_is_spent_in_the_order_a_count_budget_chooses() -> None:
    texts = _pool(60, seed=2)
    costs = [1 + i % 4 for i in range(60)]
    by_cost = zip_select(texts, 30, k1=60, k2=20, k3=5, costs=costs)
    spent = [costs[i] for i in by_cost.indices]
    assert sum(spent) >= 30 and sum(spent[:-1]) < 30  # stops at the item that reaches the budget
    assert by_cost.indices == zip_select(texts, len(by_cost.indices), k1=60, k2=20, k3=5).indices
    with pytest.raises(RetinueError, match="cost"):
        zip_select(texts, 30, costs=[0] * 60)
    with pytest.raises(RetinueError, match="total cost"):
        zip_select(texts, sum(costs) + 1, costs=costs)


def test_bad_budgets_and_pools_are_named(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="budget"):
        zip_select(["a", "b"], 3)
    with pytest.raises(RetinueError, match="k1 >= k2 >= k3"):
        zip_select(["a", "b"], 1, k1=1, k2=2, k3=1)
    bad = tmp_path / "pool.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(RetinueError, match="line 2: no text field 'text'"):
        load_pool(bad)
    sharegpt = tmp_path / "pool.json"
    sharegpt.write_text(
        json.dumps([{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}])
    )
    assert load_pool(sharegpt)[1] == ["human: hi\ngpt: yo"]
