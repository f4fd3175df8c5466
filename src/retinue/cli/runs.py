"""`retinue runs`: inspect run directories."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from retinue.cli.common import command_group, err, out
from retinue.errors import RetinueError

runs_app = command_group("Inspect run directories.")


@runs_app.command("list")
def runs_list(
    root: Annotated[Path | None, typer.Option(help="Folder of run directories (default: RETINUE_HOME/runs).")] = None,
) -> None:
    """List runs, newest first: those under RETINUE_HOME/runs (or --root) and those made elsewhere with
    --out."""
    from retinue.paths import runs_root
    from retinue.runs.directory import list_runs

    root = root or runs_root()
    runs = list_runs(root)
    if not runs:
        err.print(f"no runs under {root}")
        return
    header = ("run", "command", "status", "progress", "started", "time", "llm calls")
    rows = [_row(run, root) for run in runs]
    if not out.is_terminal:  # a pipe or a file: a tab-separated line a run, for grep, cut and sort
        for row in (header, *rows):
            typer.echo("\t".join(row))  # rich would expand the tabs
        return
    table = Table(title=f"runs under {root}, and those made elsewhere", title_justify="left", box=box.SIMPLE_HEAD)
    for column in header:
        table.add_column(
            column, no_wrap=column != "progress", justify="right" if column in ("time", "llm calls") else "left"
        )
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _row(run: Any, root: Path) -> tuple[str, ...]:
    """A run's line in the list; a run whose files cannot be read is listed as such, not fatal to the list.
    A run under `root` goes by its folder's name, one made elsewhere (`--out`) by its path."""
    from retinue.progress import clock

    name = run.path.name if run.path.parent == root.resolve() else str(run.path)
    try:
        record = run.record()
        calls = run.usage().get("total", {}).get("calls", "")
    except RetinueError as error:
        return (name, "", "unreadable", str(error), "", "", "")
    seconds = record.get("duration_seconds")
    return (
        name,
        str(record.get("command")),
        run.status(),
        progress_text(record.get("progress") or {}, "\n" if out.is_terminal else "; "),
        str(record.get("started_at", ""))[:16].replace("T", " "),
        clock(float(seconds)) if seconds is not None else "",
        str(calls),
    )


def progress_text(progress: dict[str, list[int | None]], separator: str = "\n") -> str:
    """A run's last progress counts, e.g. "questions 137/500" (tasks joined by `separator`)."""
    return separator.join(
        f"{task} {done}/{total}" if total else f"{task} {done}" for task, (done, total) in progress.items()
    )


@runs_app.command("show")
def runs_show(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Print a run's record, metrics and usage as JSON."""
    from retinue.runs.directory import RunDirectory

    run = RunDirectory.open(run_dir)
    shown = {"run": run.record(), "config": run.config(), "metrics": run.metrics(), "usage": run.usage()}
    out.print(json.dumps(shown, indent=2), markup=False, highlight=False)
