"""One suite, every environment with episodes: the market replay and a TextWorld cooking game, on real
data and a real game. Each follows reset()/step(), ends its episode, and replays it exactly."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from retinue.envs.base import Env

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass
class Case:
    env: Any
    actions: Callable[[Any, random.Random], Any]  # a random agent's action for an observation
    max_steps: int


def _market() -> Case:
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv

    if not (SHARED / "market").is_dir():
        pytest.skip("the shared market data is not there")
    env = MarketEnv(load_prices(SHARED, ["TSLA", "MSFT"]), date(2022, 10, 5), date(2022, 11, 4), cost_bps=5)

    def act(_: Any, rng: random.Random) -> dict[str, float]:
        weight = rng.choice([-0.5, 0.0, 0.5])
        return {"TSLA": weight, "MSFT": rng.choice([-0.5, 0.0, 0.5])}

    return Case(env, act, env.trading_days)


def _textworld(folder: Path) -> Case:
    from retinue.envs.textworld import TextWorldEnv
    from retinue.envs.textworld_suite import load_games, make_games

    make_games([1], "train", 1, 0, folder)
    entry = load_games(folder)[0]
    env = TextWorldEnv(entry.path(folder), step_limit=20)
    return Case(env, lambda seen, rng: rng.choice(sorted(seen.admissible)), 20)


@pytest.fixture(params=["market", "textworld"], scope="module")
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    made = _market() if request.param == "market" else _textworld(tmp_path_factory.mktemp("games"))
    yield made
    if hasattr(made.env, "close"):
        made.env.close()


def _episode(case: Case, seed: int) -> tuple[list[Any], list[float], int, list[str]]:
    rng = random.Random(seed)
    seen = case.env.reset()
    actions, rewards, steps, done, seen_after = [], [], 0, False, []
    while not done:
        action = case.actions(seen, rng)
        seen, reward, done, info = case.env.step(action)
        assert isinstance(reward, float) and isinstance(done, bool) and isinstance(info, dict)
        actions.append(action)
        rewards.append(reward)
        seen_after.append(repr(seen))
        steps += 1
        assert steps <= case.max_steps, "the episode should end by its step limit"
    return actions, rewards, steps, seen_after


def test_it_follows_the_env_protocol(case: Case) -> None:
    assert isinstance(case.env, Env)


def test_a_random_agent_plays_an_episode_to_its_end(case: Case) -> None:
    _, rewards, steps, _ = _episode(case, seed=0)
    assert 1 <= steps <= case.max_steps and len(rewards) == steps


def test_reset_replays_the_same_episode_exactly(case: Case) -> None:
    first = _episode(case, seed=3)
    again = _episode(case, seed=3)
    assert first == again
    other = _episode(case, seed=4)
    assert (other[1], other[3]) != (first[1], first[3])  # other actions, another episode: actions are read
