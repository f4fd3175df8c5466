"""agent-gemma's data handling: held-out examples are whole groups, a per-role cap draws a seeded
sample of each role, and a token budget is spent by ZIP or at random."""

import json
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.training.lm.agent_sft import (
    Tokenised,
    parse_per_role,
    per_role,
    read_examples,
    select_to_budget,
    split_held_out,
)


def test_held_out_examples_are_whole_games_or_questions() -> None:
    examples = [Tokenised([1, 2, 3], 2, "actor", f"game-{i % 7}") for i in range(70)]
    train, held = split_held_out(examples, 0.2, seed=0)
    assert held and len(train) + len(held) == 70
    assert not {e.group for e in train} & {e.group for e in held}
    assert split_held_out(examples, 0.01, seed=0)[1]  # a share too small to round still holds a group out
    assert split_held_out(examples, 0.0, seed=0)[1] == []


def test_a_per_role_cap_draws_a_seeded_sample_of_each_role_in_order() -> None:
    examples = [{"role": "actor", "n": i} for i in range(10)] + [{"role": "planner", "n": i} for i in range(3)]
    capped = per_role(examples, 4, seed=1)
    assert [e["role"] for e in capped].count("actor") == 4 and [e["role"] for e in capped].count("planner") == 3
    assert capped == sorted(capped, key=examples.index)  # in their given order
    assert per_role(examples, 4, seed=1) == capped and per_role(examples, 4, seed=2) != capped
    assert per_role(examples, None, seed=1) == examples


def test_a_cap_a_role_limits_the_roles_it_names_and_keeps_the_others_whole() -> None:
    examples = [{"role": "actor", "n": i} for i in range(10)] + [{"role": "planner", "n": i} for i in range(8)]
    capped = per_role(examples, {"planner": 2}, seed=1)
    roles = [e["role"] for e in capped]
    assert roles.count("actor") == 10 and roles.count("planner") == 2
    assert [e for e in capped if e["role"] == "planner"] == [
        e for e in per_role(examples, 2, seed=1) if e["role"] == "planner"
    ]  # the same draw as a cap on every role


@pytest.mark.parametrize(
    ("text", "parsed"), [("400", 400), ("planner=2000, actor=300", {"planner": 2000, "actor": 300})]
)
def test_per_role_reads_a_number_or_one_a_role(text: str, parsed: object) -> None:
    assert parse_per_role(text) == parsed


@pytest.mark.parametrize("text", ["0", "many", "planner=0", "=5", "planner=x"])
def test_a_bad_per_role_is_a_one_line_error(text: str) -> None:
    with pytest.raises(RetinueError, match="--per-role"):
        parse_per_role(text)


def _pool() -> list[Tokenised]:
    """Twenty distinct examples and twenty copies of one, each of 10 tokens."""
    distinct = [
        Tokenised(list(range(10)), 8, "planner", f"q{i}", f"question {i} asks for relation r{i * 7 % 13}")
        for i in range(20)
    ]
    copies = [
        Tokenised(list(range(10)), 8, "planner", f"c{i}", "what films did the same director make") for i in range(20)
    ]
    return [e for pair in zip(distinct, copies, strict=True) for e in pair]


@pytest.mark.parametrize("how", ["zip", "random"])
def test_a_token_budget_keeps_examples_until_it_is_reached_in_pool_order(how: str) -> None:
    pool = _pool()
    picked = select_to_budget(pool, 95, how, seed=0)
    assert picked.tokens == 100 and len(picked.examples) == 10 and picked.how == how
    assert picked.examples == sorted(picked.examples, key=pool.index)
    assert picked == select_to_budget(pool, 95, how, seed=0)


def test_zip_keeps_a_less_redundant_mixture_than_random_draws() -> None:
    pool = _pool()
    by_zip = select_to_budget(pool, 100, "zip", seed=0)
    drawn = [select_to_budget(pool, 100, "random", seed=s) for s in range(5)]
    assert by_zip.ratio < min(d.ratio for d in drawn) and by_zip.pool_ratio == drawn[0].pool_ratio
    assert sum(e.group.startswith("c") for e in by_zip.examples) <= 1


def test_a_budget_beyond_the_pool_or_an_unknown_selection_is_named() -> None:
    with pytest.raises(RetinueError, match="--budget-tokens"):
        select_to_budget(_pool(), 401, "zip", seed=0)
    with pytest.raises(RetinueError, match="--selection"):
        select_to_budget(_pool(), 10, "best", seed=0)


def test_roles_are_read_from_whichever_data_folder_has_them(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, role in ((first, "actor"), (second, "reflector")):
        folder.mkdir()
        (folder / f"{role}.jsonl").write_text(json.dumps({"role": role}) + "\n")
    assert [e["role"] for e in read_examples([first, second], ["actor", "reflector"])] == ["actor", "reflector"]
    with pytest.raises(RetinueError, match="no planner.jsonl"):
        read_examples([first, second], ["planner"])
    (second / "actor.jsonl").write_text(json.dumps({"role": "actor"}) + "\n")
    with pytest.raises(RetinueError, match="actor.jsonl is in"):
        read_examples([first, second], ["actor"])
