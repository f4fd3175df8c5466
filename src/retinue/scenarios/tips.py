"""Introspective Tips and its baselines playing TextWorld games: the config and the one place that
assembles the games, the episode schedule, the team's context and the graph for a run."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from rich.console import Console

from retinue.config import LLMConfig
from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory
from retinue.runs.driver import ScenarioRun
from retinue.scenarios.base import ScenarioConfig

Setting = Literal["own", "expert", "cross"]
Method = Literal["tips", "reflexion", "raw", "none", "random", "walkthrough"]


class TipsScenario(ScenarioConfig):
    """TextWorld games played trial after trial; the tips (or reflections) learned carry to the next."""

    command = "eval tips"

    games_dir: Path | None = Field(None, description="Games to play: a folder made by `games make`, or one .z8.")
    setting: Setting = Field("own", description="Learn from own trials, expert walkthroughs, or other games.")
    method: Method = Field("tips", description="tips, or a baseline: reflexion, raw, none, random, walkthrough.")
    trials: int = Field(3, ge=1, description="Trials per game (own, expert) or per train game (cross).")
    train_games: Path | None = Field(
        None, description="expert: whose walkthroughs are studied; cross: where tips are learned."
    )
    first: int | None = Field(None, ge=1, description="Play only the first N games.")
    max_steps: int | None = Field(None, ge=1, description="Cap each episode (default: the level's limit).")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="TipsSettings fields: how the agents play and learn."
    )
    games: dict[str, dict[str, Any]] | None = Field(
        None, description="Every game played or learned from, with its path; fixed by prepare()."
    )
    schedule: list[dict[str, Any]] | None = Field(None, description="The episodes in order; fixed by prepare().")
    demonstrations: list[str] = Field(default_factory=list, description="Games whose walkthroughs are studied.")

    @model_validator(mode="after")
    def _setting_fits(self) -> "TipsScenario":
        if self.games is not None:  # prepared: already checked
            return self
        if self.setting == "own" and self.train_games is not None:
            raise ValueError("train_games is only used with the expert or cross setting")
        if self.setting != "own" and self.train_games is None:
            raise ValueError(f"the {self.setting} setting needs train_games (games to learn from)")
        if self.setting == "expert" and self.method == "reflexion":
            raise ValueError("reflexion reflects on its own failed attempts: use the own or cross setting")
        return self

    @property
    def uses_model(self) -> bool:
        return self.method not in ("random", "walkthrough")


def prepare(config: TipsScenario) -> TipsScenario:
    """The config with every game, the episode schedule and the demonstrations fixed."""
    from retinue.agents.tips import TipsSettings, plan_episodes
    from retinue.config import validate_config
    from retinue.envs.textworld_suite import load_games

    if config.games is not None:
        return config
    if config.games_dir is None:
        raise RetinueError("--games is required: a folder made by `retinue games make`, or one .z8 game")
    settings = validate_config(TipsSettings, config.settings, "options").model_dump()
    played = load_games(config.games_dir)[: config.first]
    learned_on = load_games(config.train_games) if config.train_games is not None else []
    table: dict[str, dict[str, Any]] = {}
    folders = [*((e, config.games_dir) for e in played), *((e, config.train_games) for e in learned_on)]
    for entry, folder in folders:
        record = asdict(entry) | {"path": str(entry.path(folder).resolve())}  # type: ignore[arg-type]
        record["step_limit"] = min(entry.step_limit, config.max_steps or entry.step_limit)
        known = table.get(entry.id)
        if known is not None and known["fingerprint"] != entry.fingerprint:
            raise RetinueError(f"two different games are called {entry.id}: make them with another --split or --seed")
        if known is not None and config.setting == "cross":
            raise RetinueError(f"{entry.id} is both a train and a test game: cross tests on unseen games")
        table[entry.id] = record
    test_ids = [e.id for e in played]
    train_ids = [e.id for e in learned_on]
    studies = config.setting == "expert" and config.method in ("tips", "raw")
    return config.model_copy(
        update={
            "settings": settings,
            "games": table,
            "schedule": plan_episodes(config.setting, test_ids, train_ids, config.trials),
            "demonstrations": train_ids if studies else [],
        }
    )


def tips_context(config: TipsScenario, llm_config: LLMConfig, usage: Any) -> Any:
    """The team's runtime context for a prepared config."""
    from retinue.agents.tips import TipsContext, TipsSettings
    from retinue.envs.textworld_suite import GameEntry
    from retinue.llms import run_chat_model

    games = config.games or {}
    entries = {gid: GameEntry(**{k: v for k, v in g.items() if k != "path"}) for gid, g in games.items()}
    return TipsContext(
        llm=run_chat_model(llm_config, usage, config.db),
        usage=usage,
        llm_config=llm_config,
        games=entries,
        paths={gid: Path(g["path"]) for gid, g in games.items()},
        method=config.method,
        setting=config.setting,
        settings=TipsSettings(**config.settings),
    )


def build(config: TipsScenario, run: RunDirectory, console: Console | None = None) -> ScenarioRun:
    """The episode loop over the schedule, with the games started (and restarted on resume) as it goes."""
    from retinue.graphs.tips import build_tips_graph
    from retinue.llms import UsageRecorder

    usage = UsageRecorder()
    context = tips_context(config, config.llm, usage)
    schedule = config.schedule or []
    steps = sum(context.games[p["game"]].step_limit + 3 for p in schedule)
    return ScenarioRun(
        graph=build_tips_graph(),
        context=context,
        usage=usage,
        inputs={
            "schedule": schedule,
            "demonstrations": config.demonstrations,
            "studied": 0,
            "current": None,
            "episodes": [],
        },
        recursion_limit=steps + len(config.demonstrations) + 10,
        report=lambda final: _report(run, config, final["episodes"], usage),
        close=context.live.close,
    )


def _report(run: RunDirectory, config: TipsScenario, episodes: list[dict[str, Any]], usage: Any) -> dict[str, Any]:
    """Scores per trial; episodes.jsonl, tips.json and learning_curve.png beside them."""
    from retinue.agents.tips import notes
    from retinue.evaluation.games import game_metrics, learning_curve, plot_learning_curve, write_episodes
    from retinue.runs.execute import open_run_store

    schedule = config.schedule or []
    if len(episodes) != len(schedule):
        raise RetinueError(f"{run.path} played {len(episodes)} of {len(schedule)} episodes; --resume it")
    total = usage.total()
    metrics = game_metrics(episodes) | {
        "run_llm_calls": total.calls + total.cache_hits,
        "run_tokens": total.prompt_tokens + total.completion_tokens,
        "wall_seconds": float(run.record().get("duration_seconds") or 0.0),
    }
    write_episodes(run.path / "episodes.jsonl", episodes)
    with open_run_store(run) as store:
        learned = {"/".join(ns): notes.read(store, ns) for ns in store.list_namespaces()}
    (run.path / "tips.json").write_text(json.dumps(learned, indent=2), encoding="utf-8")
    label = f"{config.method} ({config.setting})"
    curves = {run.path.name: {label: learning_curve(episodes)}}
    plot_learning_curve(run.path / "learning_curve.png", curves, "normalized score per trial")
    return metrics
