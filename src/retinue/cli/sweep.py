"""`retinue sweep`: a command over a grid of its options, cells in parallel, results in one table."""

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import DbOption, err, out
from retinue.errors import RetinueError


def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="The sweep file (TOML): command, options, grid.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Sweep directory: cells/, logs/, results.csv.")],
    executor: Annotated[
        str, typer.Option(help="local: worker processes on this machine | ray: Ray tasks (a local Ray by default).")
    ] = "local",
    address: Annotated[str | None, typer.Option(help="ray: the address of an existing Ray cluster.")] = None,
    workers: Annotated[int | None, typer.Option(help="local: cells at once (default: the number of cores).")] = None,
    db: DbOption = None,
) -> None:
    """Run every cell of the grid as an ordinary run under OUT/cells/. Rerunning skips finished cells and
    resumes stopped ones; a failing cell is retried, then reported, without stopping the others. With --db
    every cell keeps its checkpoints and response cache on that PostgreSQL server."""
    from retinue.progress import progress_bars
    from retinue.runs.sweep import cells, load_sweep, run_sweep, run_sweep_on_ray, write_results

    if executor not in ("local", "ray"):
        raise RetinueError(f"--executor {executor!r}: choose local or ray")
    if address is not None and executor != "ray":
        raise RetinueError("--address names a Ray cluster: use it with --executor ray")
    spec = load_sweep(sweep_file)
    _check_options(spec, sweep_file)
    if db is not None:
        from retinue.postgres import check_db_url

        spec = spec.model_copy(update={"options": {**spec.options, "db": check_db_url(db)}})
    todo = cells(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sweep.toml").write_text(sweep_file.read_text(encoding="utf-8"), encoding="utf-8")
    with progress_bars(console=err) as bar:
        task = bar.add_task("sweep cells", total=len(todo))
        if executor == "ray":
            outcomes = run_sweep_on_ray(spec, out_dir.resolve(), address, lambda _: bar.advance(task))
        else:
            outcomes = run_sweep(spec, out_dir, workers or os.cpu_count() or 1, lambda _: bar.advance(task))
    results = write_results(out_dir, spec, outcomes)
    for outcome in outcomes:
        line = f"{outcome.cell.name}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else "")
        out.print(line, markup=False, highlight=False)
    failed = [o for o in outcomes if o.status == "failed"]
    err.print(f"results: {results}; {len(outcomes) - len(failed)} of {len(outcomes)} cells done", highlight=False)
    for outcome in failed:
        log = out_dir / "logs" / f"{outcome.cell.name}.log"
        err.print(f"{outcome.cell.name} failed: {outcome.error}; its output: {log}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


def _check_options(spec: Any, path: Path) -> None:
    """Every option of the sweep file must be one of its command's own (or each cell fails with a usage
    box), and not one the sweep sets for each cell."""
    from retinue.cli import app
    from retinue.runs.sweep import COMMANDS

    command: Any = typer.main.get_command(app)
    for word in COMMANDS[spec.command]:
        command = command.commands[word]
    options = {
        opt[2:].replace("-", "_") for param in command.params if param.param_type_name == "option" for opt in param.opts
    }
    choices = sorted(options - {"out", "resume", "help"})
    for key in {**spec.options, **spec.grid}:
        if key in ("out", "resume"):
            raise RetinueError(f"{path}: {key!r} is the sweep's to set, for each cell")
        if key not in choices:
            raise RetinueError(f"{path}: {key!r} is not an option of `retinue {spec.command}` ({', '.join(choices)})")
