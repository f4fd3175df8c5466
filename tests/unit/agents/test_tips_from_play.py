"""The tips agent-gemma's Tips examples put in the actor's guidance and teach the introspector to write:
only what the attempts' trajectories show."""

from retinue.agent_data.tips import Attempt, tips_from_play
from retinue.agents.tips.introspector import TIP_CHARS
from retinue.agents.tips.state import StepRecord
from retinue.envs.textworld import GameObservation


def _attempt(commands: list[tuple[str, float]], lost: bool = False, deviation: int = 0) -> Attempt:
    steps = [
        StepRecord(step=n, command=c, observation="ok", score=0, reward=r, admissible=True, fallback=False)
        for n, (c, r) in enumerate(commands, start=1)
    ]
    score = int(sum(r for _, r in commands))
    last = GameObservation("ok", [], "cook", score, 5, len(steps), won=False, lost=lost)
    return Attempt(deviation, commands[-1][0], steps, last)


def test_what_lost_comes_first_then_what_scored_in_order() -> None:
    attempt = _attempt([("open fridge", 0), ("take apple from fridge", 1), ("eat apple", 0)], lost=True)
    assert tips_from_play([attempt], 5) == [
        "Never type 'eat apple' in this game: it lost the game.",
        "These commands scored, in this order: 'take apple from fridge'.",
    ]
    assert tips_from_play([_attempt([("look", 0), ("inventory", 0)])], 5) == []  # nothing learned, no tips


def test_later_attempts_keep_every_loss_and_the_best_scoring_sequence() -> None:
    first = _attempt([("take apple", 1), ("slice apple", 1), ("cook apple with oven", 0)], lost=True)
    second = _attempt([("take apple", 1), ("go west", 0)], deviation=1)
    tips = tips_from_play([first, second], 5)
    assert tips == [
        "Never type 'cook apple with oven' in this game: it lost the game.",
        "These commands scored, in this order: 'take apple', 'slice apple'.",  # the first scored more
    ]
    third = _attempt([("take apple", 1), ("slice apple", 1), ("prepare meal", 1)], deviation=2)
    assert tips_from_play([first, second, third], 5)[1].endswith("'slice apple', 'prepare meal'.")


def test_long_sequences_go_over_several_tips_each_within_the_limit() -> None:
    commands = [(f"take the very long named ingredient number {n} from the fridge", 1.0) for n in range(8)]
    tips = tips_from_play([_attempt(commands)], 10)
    assert len(tips) > 2 and all(10 <= len(tip) <= TIP_CHARS for tip in tips)
    assert tips[1].startswith("Then these scored:")
    assert sum(tip.count("'take the very") for tip in tips) == 8  # every scoring command, once
    assert tips_from_play([_attempt(commands)], 2) == tips[:2]  # at most k, the first ones
