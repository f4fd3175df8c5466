"""Introspective Tips' commands: `games make`, `eval tips` and `play`."""

from pathlib import Path
from typing import Annotated

import typer

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    DbOption,
    ModelOptions,
    ResumeOption,
    RunDirOption,
    command_group,
    err,
    out,
    print_usage,
    run_scenario,
    with_model_options,
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
    check_request(split, count, out_dir, seed)
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


@with_model_options
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
    first: Annotated[int | None, typer.Option(help="Play only the first N games of --games.")] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Cap each episode at N steps (default: the level's limit, 50 or 100).")
    ] = None,
    max_tips: Annotated[int, typer.Option(help="Tips kept per namespace (K).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the random baseline.")] = 0,
    db: DbOption = None,
    out_dir: RunDirOption = None,
    resume: ResumeOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Play TextWorld games with Introspective Tips or a baseline and score them: metrics.json (normalized
    score, success rate, steps, invalid actions, LLM calls and tokens, per trial), episodes.jsonl (every
    step), tips.json (what was learned) and learning_curve.png."""
    from retinue.agents.tips import METHODS, SETTINGS
    from retinue.postgres import check_db_url
    from retinue.scenarios import TipsScenario

    scenario = None
    if resume is None:
        if games is None:
            raise RetinueError("--games is required: a folder made by `retinue games make`, or one .z8 game")
        if setting not in SETTINGS:
            raise RetinueError(f"--setting: {setting!r} is not one of {', '.join(SETTINGS)}")
        if trials < 1 or any(n is not None and n < 1 for n in (first, max_steps)):
            raise RetinueError("--trials, --first and --max-steps must be at least 1")
        if method not in METHODS:
            raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
        if setting == "own" and train_games is not None:
            raise RetinueError("--train-games is only used with --setting expert or cross")
        if setting != "own" and train_games is None:
            raise RetinueError(f"--setting {setting} needs --train-games DIR (games to learn from)")
        if setting == "expert" and method == "reflexion":
            raise RetinueError("reflexion reflects on its own failed attempts: use --setting own or cross")
        scenario = TipsScenario(
            games_dir=games,
            setting=setting,  # type: ignore[arg-type]
            method=method,  # type: ignore[arg-type]
            trials=trials,
            train_games=train_games,
            first=first,
            max_steps=max_steps,
            settings={"max_tips": max_tips, "seed": seed},
            llm=models.settings(default_model=False),
            db=check_db_url(db),
        )
    result = run_scenario(scenario, out_dir=out_dir, resume=resume)
    for key, value in result.metrics.items():
        out.print(f"{key}: {value}")
    print_usage(result.usage)
    err.print(f"run directory: {result.path}")
