"""State, settings and context of Introspective Tips and its baselines (`episodes.py` runs an episode's
life cycle over them).

A run plays a schedule of episodes (game, trial, phase) one command at a time. `current` is the episode in
hand (its steps so far and the latest observation); `episodes` grows by one record per finished episode,
so a stopped run resumes at the step where it stopped: the game is replayed to that step (TextWorld games
are deterministic) and play goes on.
"""

import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, Field

from retinue.envs.textworld import LiveGames
from retinue.envs.textworld_suite import GameEntry
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


@dataclass(frozen=True)
class TipsContext(RunContext):
    """The run context plus the games (to play and to learn from), the method and setting, the settings."""

    games: dict[str, GameEntry] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    method: str = "tips"
    setting: str = "own"
    settings: TipsSettings = field(default_factory=TipsSettings)
    live: LiveGames = field(default_factory=LiveGames)
