"""`retinue runs`: inspect run directories."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retinue.cli.common import command_group, err, out

runs_app = command_group("Inspect run directories.")


@runs_app.command("list")
def runs_list(
    root: Annotated[Path | None, typer.Option(help="Folder of run directories (default: RETINUE_HOME/runs).")] = None,
) -> None:
    """List runs, newest first."""
    from retinue.paths import runs_root
    from retinue.runs.directory import list_runs

    root = root or runs_root()
    runs = list_runs(root)
    if not runs:
        err.print(f"no runs under {root}")
        return
    table = Table(title=f"runs under {root}", title_justify="left")
    for column in ("run", "command", "status", "progress", "started", "seconds", "llm calls"):
        table.add_column(column, no_wrap=column == "run")
    for run in runs:
        record = run.record()
        usage = run.usage().get("total", {})
        table.add_row(
            run.path.name,
            str(record.get("command")),
            run.status(),
            progress_text(record.get("progress") or {}),
            str(record.get("started_at", ""))[:19],
            str(record.get("duration_seconds", "")),
            str(usage.get("calls", "")),
        )
    out.print(table)


def progress_text(progress: dict[str, list[int | None]]) -> str:
    """A run's last progress counts, e.g. "questions 137/500" (one line per task)."""
    return "\n".join(
        f"{task} {done}/{total}" if total else f"{task} {done}" for task, (done, total) in progress.items()
    )


@runs_app.command("show")
def runs_show(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Print a run's record, metrics and usage as JSON."""
    from retinue.runs.directory import RunDirectory

    run = RunDirectory.open(run_dir)
    shown = {"run": run.record(), "config": run.config(), "metrics": run.metrics(), "usage": run.usage()}
    out.print(json.dumps(shown, indent=2), markup=False, highlight=False)
