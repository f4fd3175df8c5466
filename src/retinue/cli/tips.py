"""Introspective Tips' commands: `games make`, `eval tips` and `play`."""

from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import (
    BaseUrlOption,
    ConfigOption,
    DbOption,
    LLMOption,
    ModelOption,
    NoCacheOption,
    ResumeOption,
    RunDirOption,
    ScriptOption,
    chat_model_settings,
    command_group,
    err,
    out,
    print_usage,
    run_chat_model,
)
from retinue.errors import RetinueError

games_app = command_group("Generate TextWorld cooking games.")
GamesOption = Annotated[Path | None, typer.Option(help="The tips team's games: a folder made by `retinue games make`.")]


@games_app.command("make")
def make(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the games and their manifest.json.")],
    levels: Annotated[str, typer.Option(help="GATA levels, comma-separated (1-5).")] = "1,2,3,4",
    split: Annotated[
        str, typer.Option(help="train | valid | test: tw-cooking's split of foods and recipes.")
    ] = "train",
    count: Annotated[int, typer.Option(help="Games per level.")] = 5,
    seed: Annotated[int, typer.Option(help="Base seed; each game's seed is in the manifest.")] = 0,
) -> None:
    """Generate cooking games with `tw-make tw-cooking` at the GATA difficulty levels, offline. Rerunning
    keeps the games already made (their fingerprints are checked) and makes the rest."""
    from rich.table import Table

    from retinue.envs.textworld_suite import check_request, make_games, parse_levels
    from retinue.progress import progress_bars

    chosen = parse_levels(levels)
    check_request(split, count, out_dir)
    with progress_bars(console=err) as bar:
        task = bar.add_task("games", total=None)
        entries = make_games(
            chosen, split, count, seed, out_dir, lambda done, total: bar.update(task, completed=done, total=total)
        )
    table = Table(title=f"{out_dir}/manifest.json", title_justify="left")
    for column in ("game", "level", "seed", "max score", "walkthrough steps"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.id, str(e.level), str(e.seed), str(e.max_score), str(e.walkthrough_steps))
    out.print(table)


def eval_tips(
    games: Annotated[
        Path | None, typer.Option(help="Games to play: a folder made by `games make`, or one .z8.")
    ] = None,
    setting: Annotated[str, typer.Option(help="own | expert | cross.")] = "own",
    method: Annotated[str, typer.Option(help="tips | reflexion | raw | none | random | walkthrough.")] = "tips",
    trials: Annotated[int, typer.Option(help="Trials per game (own, expert) or per train game (cross).")] = 3,
    train_games: Annotated[
        Path | None, typer.Option(help="expert: whose walkthroughs are studied; cross: where tips are learned.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Play only the first N games of --games.")] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Cap each episode at N steps (default: the level's limit, 50 or 100).")
    ] = None,
    max_tips: Annotated[int, typer.Option(help="Tips kept per namespace (K).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the random baseline.")] = 0,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    db: DbOption = None,
    out_dir: RunDirOption = None,
    resume: ResumeOption = None,
) -> None:
    """Play TextWorld games with Introspective Tips or a baseline and score them: metrics.json (normalized
    score, success rate, steps, invalid actions, LLM calls and tokens, per trial), episodes.jsonl (every
    step), tips.json (what was learned) and learning_curve.png."""
    from retinue.agents.tips import SETTINGS, TipsSettings
    from retinue.config import LLMConfig, validate_config
    from retinue.paths import runs_root
    from retinue.postgres import check_db_url
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.resume(resume, "eval tips")
        saved: dict[str, Any] = run.config()
        llm_config = validate_config(LLMConfig, saved["llm"], source=f"{run.config_path} [llm]")
    else:
        if games is None:
            raise RetinueError("--games is required: a folder made by `retinue games make`, or one .z8 game")
        if setting not in SETTINGS:
            raise RetinueError(f"--setting: {setting!r} is not one of {', '.join(SETTINGS)}")
        if trials < 1 or any(n is not None and n < 1 for n in (limit, max_steps)):
            raise RetinueError("--trials, --limit and --max-steps must be at least 1")
        llm_config = chat_model_settings(config, llm, model, base_url, script, no_cache)
        saved = _plan(games, setting, method, trials, train_games, limit, max_steps)
        saved |= {
            "settings": validate_config(TipsSettings, {"max_tips": max_tips, "seed": seed}, "options").model_dump(),
            "llm": llm_config.model_dump(mode="json"),
            "db": check_db_url(db),
        }
        run = RunDirectory.create("eval tips", saved, out_dir, runs_root())
    final, usage = _play(run, saved, llm_config, resume=resume is not None)
    _report(run, saved, final["episodes"], usage)


def _plan(
    games: Path,
    setting: str,
    method: str,
    trials: int,
    train_games: Path | None,
    limit: int | None,
    max_steps: int | None,
) -> dict[str, Any]:
    """The run's config: every game with its path, the episode schedule and the demonstrations."""
    from dataclasses import asdict

    from retinue.agents.tips import METHODS, plan_episodes
    from retinue.envs.textworld_suite import load_games

    if method not in METHODS:
        raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    if setting == "own" and train_games is not None:
        raise RetinueError("--train-games is only used with --setting expert or cross")
    if setting != "own" and train_games is None:
        raise RetinueError(f"--setting {setting} needs --train-games DIR (games to learn from)")
    if setting == "expert" and method == "reflexion":
        raise RetinueError("reflexion reflects on its own failed attempts: use --setting own or cross")
    played = load_games(games)[:limit]
    learned_on = load_games(train_games) if train_games is not None else []
    table: dict[str, dict[str, Any]] = {}
    for entry, folder in [*((e, games) for e in played), *((e, train_games) for e in learned_on)]:
        record = asdict(entry) | {"path": str(entry.path(folder).resolve())}  # type: ignore[arg-type]
        record["step_limit"] = min(entry.step_limit, max_steps or entry.step_limit)
        known = table.get(entry.id)
        if known is not None and known["fingerprint"] != entry.fingerprint:
            raise RetinueError(f"two different games are called {entry.id}: make them with another --split or --seed")
        if known is not None and setting == "cross":
            raise RetinueError(f"{entry.id} is both a train and a test game: cross tests on unseen games")
        table[entry.id] = record
    test_ids = [e.id for e in played]
    train_ids = [e.id for e in learned_on]
    return {
        "method": method,
        "setting": setting,
        "trials": trials,
        "games": table,
        "schedule": plan_episodes(setting, test_ids, train_ids, trials),
        "demonstrations": train_ids if setting == "expert" and method in ("tips", "raw") else [],
    }


def tips_context(saved: dict[str, Any], llm_config: Any, usage: Any) -> Any:
    """The TipsContext of a run's config."""
    from retinue.agents.tips import TipsContext, TipsSettings
    from retinue.envs.textworld_suite import GameEntry

    entries = {gid: GameEntry(**{k: v for k, v in g.items() if k != "path"}) for gid, g in saved["games"].items()}
    return TipsContext(
        llm=run_chat_model(llm_config, usage, saved.get("db")),
        usage=usage,
        llm_config=llm_config,
        games=entries,
        paths={gid: Path(g["path"]) for gid, g in saved["games"].items()},
        method=saved["method"],
        setting=saved["setting"],
        settings=TipsSettings(**saved["settings"]),
    )


def _play(run: Any, saved: dict[str, Any], llm_config: Any, resume: bool) -> tuple[dict[str, Any], Any]:
    from retinue.graphs.tips import build_tips_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute

    usage = UsageRecorder()
    context = tips_context(saved, llm_config, usage)
    steps = sum(context.games[p["game"]].step_limit + 3 for p in saved["schedule"])
    try:
        final = execute(
            build_tips_graph(),
            run=run,
            context=context,
            usage=usage,
            inputs={
                "schedule": saved["schedule"],
                "demonstrations": saved["demonstrations"],
                "studied": 0,
                "current": None,
                "episodes": [],
            },
            resume=resume,
            recursion_limit=steps + len(saved["demonstrations"]) + 10,
            console=err,
        )
    except KeyboardInterrupt:
        err.print(f"\ninterrupted; continue with: retinue eval tips --resume {run.path}")
        raise typer.Exit(130) from None
    finally:
        context.live.close()
    return final, usage


def _report(run: Any, saved: dict[str, Any], episodes: list[dict[str, Any]], usage: Any) -> None:
    import json

    from retinue.agents.tips import notes
    from retinue.evaluation.games import game_metrics, learning_curve, plot_learning_curve, write_episodes
    from retinue.runs.execute import open_run_store

    if len(episodes) != len(saved["schedule"]):
        raise RetinueError(f"{run.path} played {len(episodes)} of {len(saved['schedule'])} episodes; --resume it")
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
    label = f"{saved['method']} ({saved['setting']})"
    curves = {run.path.name: {label: learning_curve(episodes)}}
    plot_learning_curve(run.path / "learning_curve.png", curves, "normalized score per trial")
    run.write_metrics(metrics)
    for key, value in metrics.items():
        out.print(f"{key}: {value}")
    print_usage(usage.to_dict())
    err.print(f"run directory: {run.path}")
