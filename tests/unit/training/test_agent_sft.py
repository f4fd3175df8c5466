"""agent-gemma's data handling: held-out examples are whole groups, and a per-role cap draws a seeded
sample of each role."""

from retinue.training.lm.agent_sft import Tokenised, per_role, split_held_out


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
