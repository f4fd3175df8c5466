"""Sweeps: one command run over a grid of its options, each cell an ordinary run directory.

A sweep file (TOML) names the command, the options every cell shares and a grid of options to vary:

    command = "backtest"            # or "eval effiqa", "eval tips"
    retries = 1                      # extra tries for a cell that fails
    [options]
    start = "2022-10-05"
    end = "2023-06-10"
    [grid]
    tickers = ["TSLA", "NFLX"]
    method = ["buy_and_hold", "momentum"]

Cells run as `python -m retinue.cli COMMAND --option value ... --out DIR/cells/NAME`, in a pool of worker
processes. Rerunning a sweep skips cells whose metrics.json exists and resumes cells that stopped. A cell's
process dies with the worker that started it (a killed Ray worker leaves no orphan writing to the cell), so
the retried cell resumes alone from its last checkpoint.
"""

import csv
import ctypes
import itertools
import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from retinue.config import validate_config
from retinue.errors import RetinueError
from retinue.jsonfiles import read_json

COMMANDS = {"backtest": ["backtest"], "eval effiqa": ["eval", "effiqa"], "eval tips": ["eval", "tips"]}
PARENT_ENV = "RETINUE_SWEEP_PARENT"  # set on a cell's process: the pid of the worker that started it
_PR_SET_PDEATHSIG = 1
Scalar = str | int | float | bool


class SweepSpec(BaseModel):
    """A sweep file."""

    command: str = Field(description="The command every cell runs: backtest | eval effiqa | eval tips.")
    retries: int = Field(0, ge=0, le=5, description="Extra tries for a cell that fails.")
    cpus: float = Field(1.0, gt=0, description="Ray: CPUs each cell asks for.")
    memory_gb: float | None = Field(None, gt=0, description="Ray: memory each cell asks for (default: none).")
    options: dict[str, Scalar] = Field(default_factory=dict, description="Options every cell shares.")
    grid: dict[str, list[Scalar]] = Field(description="Options to vary; every combination is a cell.")

    @field_validator("command")
    @classmethod
    def _known(cls, command: str) -> str:
        if command not in COMMANDS:
            raise ValueError(f"{command!r} is not one of {', '.join(COMMANDS)}")
        return command

    @field_validator("grid")
    @classmethod
    def _not_empty(cls, grid: dict[str, list[Scalar]]) -> dict[str, list[Scalar]]:
        if not grid or any(not values for values in grid.values()):
            raise ValueError("the grid needs at least one option with at least one value")
        return grid


@dataclass(frozen=True)
class Cell:
    name: str
    options: dict[str, Scalar]


@dataclass
class CellOutcome:
    cell: Cell
    status: str  # completed | skipped | failed
    tries: int
    metrics: dict[str, Any]
    error: str | None = None


def load_sweep(path: Path) -> SweepSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RetinueError(f"sweep file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise RetinueError(f"{path} is not valid TOML: {error}") from None
    return validate_config(SweepSpec, data, source=str(path))


def cells(spec: SweepSpec) -> list[Cell]:
    keys = list(spec.grid)
    found = []
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        varied = dict(zip(keys, values, strict=True))
        name = "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", f"{k}={v}") for k, v in varied.items())
        found.append(Cell(name, {**spec.options, **varied}))
    return found


def command_line(spec: SweepSpec, cell: Cell, folder: Path) -> list[str]:
    """The cell's command; a cell that started before continues with --resume."""
    base = [sys.executable, "-m", "retinue.cli", *COMMANDS[spec.command]]
    if (folder / "run.json").exists():
        return [*base, "--resume", str(folder)]
    args = []
    for key, value in cell.options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args += [flag] if value else []
        else:
            args += [flag, str(value)]
    return [*base, *args, "--out", str(folder)]


def last_message(stderr: str) -> str | None:
    """The last line of a cell's stderr that says something: the text inside a usage box, not its frame."""
    for line in reversed(stderr.splitlines()):
        text = line.strip().strip("│").strip()
        if text and not set(text) <= set("─╭╮╰╯│ "):
            return text
    return None


def run_cell(spec: SweepSpec, cell: Cell, root: Path) -> CellOutcome:
    folder = root / "cells" / cell.name
    if (folder / "metrics.json").exists():
        return CellOutcome(cell, "skipped", 0, read_json(folder / "metrics.json", "metrics"))
    error = None
    for attempt in range(1, spec.retries + 2):
        command = command_line(spec, cell, folder)
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        (root / "logs").mkdir(exist_ok=True)
        log = f"$ {' '.join(command[2:])}\n{done.stdout}{done.stderr}"
        (root / "logs" / f"{cell.name}.log").write_text(log, encoding="utf-8")
        if done.returncode == 0 and (folder / "metrics.json").exists():
            return CellOutcome(cell, "completed", attempt, read_json(folder / "metrics.json", "metrics"))
        error = last_message(done.stderr) or f"exit status {done.returncode}"
    return CellOutcome(cell, "failed", spec.retries + 1, {}, error)


def die_with_parent() -> None:
    """In a cell's process (Linux): be killed when the sweep worker that started it dies, and exit at once if
    it already has. Elsewhere a no-op."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(parent):  # the worker died before the signal was armed
        os._exit(1)


def run_sweep(
    spec: SweepSpec, root: Path, workers: int, progress: Callable[[CellOutcome], None] | None = None
) -> list[CellOutcome]:
    """Run every cell (at most `workers` at once); failures are reported, never stop the others."""
    todo = cells(spec)
    outcomes: dict[str, CellOutcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for outcome in pool.map(lambda cell: run_cell(spec, cell, root), todo):
            outcomes[outcome.cell.name] = outcome
            if progress:
                progress(outcome)
    return [outcomes[cell.name] for cell in todo]


def run_sweep_on_ray(
    spec: SweepSpec, root: Path, address: str | None, progress: Callable[[CellOutcome], None] | None = None
) -> list[CellOutcome]:
    """Each cell a Ray task with the spec's CPU and memory request: a Ray started here for the sweep (as
    many CPUs as cores) unless `address` names an existing cluster. A task whose worker dies is run again
    (Ray's retries); the cell then resumes from its own checkpoints."""
    import ray

    started_here = address is None
    ray.init(
        address=address,
        num_cpus=os.cpu_count() if started_here else None,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        options: dict[str, Any] = {"num_cpus": spec.cpus, "max_retries": 2}
        if spec.memory_gb:
            options["memory"] = int(spec.memory_gb * 1024**3)
        task = ray.remote(run_cell).options(**options)
        todo = cells(spec)
        pending = {task.remote(spec, cell, root): cell.name for cell in todo}
        outcomes: dict[str, CellOutcome] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            outcome = ray.get(ready[0])
            outcomes[pending.pop(ready[0])] = outcome
            if progress:
                progress(outcome)
        return [outcomes[cell.name] for cell in todo]
    finally:
        if started_here:
            ray.shutdown()


def write_results(root: Path, spec: SweepSpec, outcomes: list[CellOutcome]) -> Path:
    """results.csv (one row per cell: its varied options, status and numeric metrics) and results.html."""
    from retinue.runs.sweep_report import write_report

    metric_keys = sorted({k for o in outcomes for k, v in o.metrics.items() if isinstance(v, int | float)})
    columns = ["cell", *spec.grid, "status", "tries", "error", *metric_keys]
    rows = [
        {"cell": o.cell.name, **{k: o.cell.options[k] for k in spec.grid}, "status": o.status, "tries": o.tries}
        | {"error": o.error or ""}
        | {k: o.metrics.get(k, "") for k in metric_keys}
        for o in outcomes
    ]
    path = root / "results.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    write_report(root, list(spec.grid), rows, metric_keys)
    return path
