"""`retinue train agent-data`: training examples for the agents' roles, from train splits only."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from retinue.cli.common import RunDirOption, complete_run, err
from retinue.errors import RetinueError

if TYPE_CHECKING:
    from retinue.agent_data import Example

ROLES = ("actor",)


def agent_data(
    games: Annotated[Path, typer.Option(help="Tips actor: games made by `retinue games make --split train`.")],
    roles: Annotated[str, typer.Option(help="Roles, comma-separated (so far: actor).")] = "actor",
    deviations: Annotated[int, typer.Option(help="Rollouts off the expert's path per game.")] = 2,
    recovery_steps: Annotated[int, typer.Option(help="Labelled states after each deviation, at most.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the deviations and of the options' shown order.")] = 0,
    out_dir: RunDirOption = None,
) -> None:
    """Label states of the project's own environments with the right choice, in exactly the prompts the
    agents see (the same templates, the options in the order the choice seam shows them): RUN_DIR/<role>.jsonl
    (role, messages, stem, options, target, provenance) and metrics.json (examples by kind and level)."""
    import time

    from retinue.agent_data import actor_examples, write_examples
    from retinue.paths import runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory

    chosen = [r.strip() for r in roles.split(",") if r.strip()]
    if unknown := [r for r in chosen if r not in ROLES]:
        raise RetinueError(f"--roles: {', '.join(unknown)} not labelled yet; so far: {', '.join(ROLES)}")
    if deviations < 0 or recovery_steps < 1:
        raise RetinueError("--deviations must be at least 0 and --recovery-steps at least 1")
    config = {"games": str(games), "roles": chosen, "deviations": deviations, "recovery_steps": recovery_steps}
    run = RunDirectory.create("train agent-data", config | {"seed": seed}, out_dir, runs_root())
    started = time.perf_counter()
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    with progress_bars(console=err) as bar:
        task = bar.add_task("games", total=None)

        def tallied(examples: "Iterator[Example]") -> "Iterator[Example]":
            for example in examples:
                kinds[example.provenance["kind"]] += 1
                levels[f"level_{example.provenance['level']}"] += 1
                yield example

        examples = actor_examples(
            games,
            deviations=deviations,
            recovery_steps=recovery_steps,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        written = write_examples(run.path / "actor.jsonl", tallied(examples))
    metrics = {"actor_examples": written} | {f"actor_{k}_examples": n for k, n in sorted(kinds.items())}
    metrics |= {f"actor_{k}_examples": n for k, n in sorted(levels.items())}
    complete_run(run, metrics, round(time.perf_counter() - started, 3))
    err.print(f"examples: {run.path / 'actor.jsonl'}")
