"""State and context of Introspective Tips and its baselines.

A run plays a schedule of episodes (game, trial, phase) one command at a time. `current` is the episode in
hand (its steps so far and the latest observation); `episodes` grows by one record per finished episode,
so a stopped run resumes at the step where it stopped: the game is replayed to that step (TextWorld games
are deterministic) and play goes on.
"""

import operator
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict, cast

from pydantic import BaseModel, Field

from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.envs.textworld_suite import GameEntry
from retinue.errors import RetinueError
from retinue.runs.context import RunContext

SETTINGS = ("own", "expert", "cross")
METHODS = ("tips", "reflexion", "raw", "none", "random", "walkthrough")


class EpisodePlan(TypedDict):
    """One episode to play. `phase` "train" episodes (cross) teach; "eval" episodes are scored."""

    game: str
    trial: int
    phase: str
    learn: bool


class StepRecord(TypedDict):
    step: int
    command: str
    observation: str
    score: int
    reward: float
    admissible: bool
    fallback: bool


class EpisodeWork(TypedDict, total=False):
    plan: EpisodePlan
    steps: list[StepRecord]
    observation: dict[str, Any]  # GameObservation.to_dict()
    first_observation: str
    done: bool
    guidance: list[str]
    llm_calls: int
    tokens: int
    started: float


class EpisodeResult(TypedDict):
    """One finished episode, as episodes.jsonl records it."""

    game: str
    level: int | None
    trial: int
    phase: str
    score: int
    max_score: int
    normalized_score: float
    won: bool
    lost: bool
    steps: int
    invalid_actions: int
    llm_calls: int
    tokens: int
    seconds: float
    guidance: list[str]
    learned: list[str]
    trajectory: list[StepRecord]


class TipsState(TypedDict):
    schedule: list[EpisodePlan]
    demonstrations: list[str]  # expert setting: train games whose walkthroughs are studied first
    studied: int
    current: EpisodeWork | None
    episodes: Annotated[list[EpisodeResult], operator.add]


class TipsSettings(BaseModel):
    """How the agents play and learn."""

    max_tips: int = Field(5, ge=1, le=20, description="Tips the introspector keeps per namespace (K).")
    history_tokens: int = Field(
        400,
        ge=0,
        description="Budget of the actor's recent steps (command and whole answer), about 4 characters a token.",
    )
    observation_chars: int = Field(700, ge=100, description="Characters of the current observation shown.")
    trajectory_steps: int = Field(40, ge=1, description="Steps of a trajectory shown to the introspector.")
    reflections_kept: int = Field(3, ge=1, description="Reflexion: reflections kept per game.")
    seed: int = Field(0, description="Seed of the random baseline.")


EpisodeKey = tuple[str, int, str]  # game, trial, phase


@dataclass
class LiveGames:
    """The games being played, by game id: a TextWorld process is not part of a checkpoint, so a resumed
    run starts the game again and replays the episode's commands (TextWorld games are deterministic)."""

    envs: dict[str, tuple[EpisodeKey, TextWorldEnv]] = field(default_factory=dict)

    def start(self, key: EpisodeKey, path: Path, step_limit: int) -> tuple[TextWorldEnv, GameObservation]:
        self.stop(key[0])
        env = TextWorldEnv(path, step_limit)
        first = env.reset()
        self.envs[key[0]] = (key, env)
        return env, first

    def at(self, key: EpisodeKey, path: Path, step_limit: int, commands: list[str]) -> TextWorldEnv:
        """The episode's game after `commands`, replayed if it is not the one running."""
        running = self.envs.get(key[0])
        if running is not None and running[0] == key and running[1].steps == len(commands):
            return running[1]
        env, _ = self.start(key, path, step_limit)
        env.replay(commands)
        return env

    def stop(self, game: str) -> None:
        running = self.envs.pop(game, None)
        if running is not None:
            running[1].close()

    def close(self) -> None:
        for game in list(self.envs):
            self.stop(game)


@dataclass(frozen=True)
class TipsContext(RunContext):
    """The run context plus the games (to play and to learn from), the method and setting, the settings."""

    games: dict[str, GameEntry] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    method: str = "tips"
    setting: str = "own"
    settings: TipsSettings = field(default_factory=TipsSettings)
    live: LiveGames = field(default_factory=LiveGames)


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
