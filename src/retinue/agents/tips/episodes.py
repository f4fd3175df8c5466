"""An episode's life cycle: the schedule of episodes, starting a game, playing a step, and finding the
game of the episode in hand again (replayed after a resume: TextWorld games are deterministic)."""

import time
from typing import cast

from retinue.agents.tips.state import EpisodePlan, EpisodeWork, StepRecord, TipsContext, TipsState
from retinue.envs.textworld import EpisodeKey, GameObservation, TextWorldEnv
from retinue.errors import RetinueError


def plan_episodes(setting: str, games: list[str], train_games: list[str], trials: int) -> list[EpisodePlan]:
    """own/expert: every game `trials` times, learning after each trial but the last (nothing would use
    it); cross: the train games `trials` times, learning after each, then every test game once."""
    if setting == "cross":
        train = [
            EpisodePlan(game=g, trial=t, phase="train", learn=True) for t in range(1, trials + 1) for g in train_games
        ]
        return train + [EpisodePlan(game=g, trial=1, phase="eval", learn=False) for g in games]
    return [EpisodePlan(game=g, trial=t, phase="eval", learn=t < trials) for t in range(1, trials + 1) for g in games]


def current_episode(state: TipsState) -> EpisodeWork:
    """A copy of the episode in hand, for a node to update and return."""
    if state["current"] is None:
        raise RetinueError("no episode in hand")
    return cast(EpisodeWork, dict(state["current"]))


def live_env(ctx: TipsContext, work: EpisodeWork) -> TextWorldEnv:
    """The game of the episode in hand, at its current step."""
    game = work["plan"]["game"]
    commands = [record["command"] for record in work.get("steps", [])]
    return ctx.live.at(episode_key(work["plan"]), ctx.paths[game], ctx.games[game].step_limit, commands)


def start_work(ctx: TipsContext, plan: EpisodePlan) -> EpisodeWork:
    """A fresh episode: the game reset, its first observation taken."""
    _, first = ctx.live.start(episode_key(plan), ctx.paths[plan["game"]], ctx.games[plan["game"]].step_limit)
    return EpisodeWork(
        plan=plan,
        steps=[],
        observation=first.to_dict(),
        first_observation=first.text,
        done=False,
        guidance=[],
        llm_calls=0,
        tokens=0,
        started=time.time(),
    )


def play_step(
    env: TextWorldEnv, command: str, number: int, fallback: bool = False
) -> tuple[StepRecord, GameObservation, bool]:
    """Play `command` as step `number`: the step's record, what the game shows after it, and whether the
    episode is over."""
    after, reward, done, info = env.step(command)
    record = StepRecord(
        step=number,
        command=command,
        observation=after.text,
        score=after.score,
        reward=reward,
        admissible=bool(info["admissible"]),
        fallback=fallback,
    )
    return record, after, done


def observation_of(work: EpisodeWork) -> GameObservation:
    return GameObservation(**work["observation"])


def episode_key(plan: EpisodePlan) -> EpisodeKey:
    return plan["game"], plan["trial"], plan["phase"]
