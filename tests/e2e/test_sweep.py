"""`retinue sweep` of backtests on the shared market data: cells in parallel, a failing cell retried and
reported, a rerun that skips finished cells and resumes a stopped one."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import process_alive

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "market").is_dir(), reason="the shared market data is not there"),
]

SWEEP = """command = "backtest"
retries = 1
[options]
start = "2022-10-05"
end = "2022-11-30"
[grid]
tickers = ["TSLA", "NFLX", "NOPE"]
method = ["buy_and_hold", "momentum"]
"""


def _sweep(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "retinue.cli", "sweep", str(path), "--out", str(out), "--workers", "2"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open() as handle:
        return {row["cell"]: row for row in csv.DictReader(handle)}


def test_a_sweep_runs_every_cell_and_reruns_only_what_is_left(tmp_path: Path) -> None:
    path, out = tmp_path / "sweep.toml", tmp_path / "sweep"
    path.write_text(SWEEP)
    first = _sweep(path, out)
    assert first.returncode == 1 and "4 of 6 cells done" in first.stderr and "Traceback" not in first.stderr
    log = out / "logs" / "tickers_NOPE-method_momentum.log"
    assert "tickers_NOPE-method_momentum failed: " in first.stderr and str(log) in first.stderr
    rows = _rows(out)
    assert len(rows) == 6
    failed = rows["tickers_NOPE-method_momentum"]
    assert failed["status"] == "failed" and failed["tries"] == "2" and "unknown ticker 'NOPE'" in failed["error"]
    done = rows["tickers_NFLX-method_buy_and_hold"]
    cell = out / "cells" / "tickers_NFLX-method_buy_and_hold"
    assert done["status"] == "completed" and float(done["cumulative_log_return_pct"]) == pytest.approx(
        json.loads((cell / "metrics.json").read_text())["cumulative_log_return_pct"]
    )
    assert (out / "results.html").read_text().count("<tr>") == 7 and (out / "plots" / "sharpe_ratio.png").exists()

    (cell / "metrics.json").unlink()  # as if this cell had stopped before reporting
    second = _sweep(path, out)
    rows = _rows(out)
    assert rows["tickers_TSLA-method_momentum"]["status"] == "skipped"
    assert rows["tickers_NFLX-method_buy_and_hold"]["status"] == "completed"  # resumed from its run directory
    assert rows["tickers_NFLX-method_buy_and_hold"]["cumulative_log_return_pct"] == done["cumulative_log_return_pct"]
    assert (
        (out / "logs" / "tickers_NFLX-method_buy_and_hold.log")
        .read_text()
        .startswith(f"$ retinue.cli backtest --resume {cell}")
    )
    assert second.returncode == 1  # NOPE still fails


EQUAL_SWEEP = """command = "backtest"
[options]
start = "2022-10-05"
end = "2022-11-30"
[grid]
tickers = ["TSLA", "MSFT,PFE"]
method = ["buy_and_hold", "momentum"]
"""


def _metrics(out: Path) -> dict[str, dict[str, str]]:
    # times differ from run to run; every other figure must not
    return {cell: {k: v for k, v in row.items() if "seconds" not in k} for cell, row in _rows(out).items()}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
    """The 4-cell sweep run locally: the reference the other executors must match cell by cell."""
    folder = tmp_path_factory.mktemp("equal")
    path = folder / "sweep.toml"
    path.write_text(EQUAL_SWEEP)
    done = _sweep(path, folder / "local")
    assert done.returncode == 0, done.stderr
    metrics = _metrics(folder / "local")
    assert len(metrics) == 4 and all(row["status"] == "completed" for row in metrics.values())
    return path, metrics


def test_a_ray_sweep_gives_the_same_metrics_cell_by_cell(local_sweep: tuple[Path, dict], tmp_path: Path) -> None:
    path, expected = local_sweep
    command = [sys.executable, "-m", "retinue.cli", "sweep", str(path), "--out", str(tmp_path / "ray")]
    ray = subprocess.run([*command, "--executor", "ray"], capture_output=True, text=True, timeout=600)
    assert ray.returncode == 0, ray.stderr
    assert _metrics(tmp_path / "ray") == expected


def test_a_sweep_on_postgres_gives_the_same_metrics_and_keeps_its_checkpoints_there(
    local_sweep: tuple[Path, dict], tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    path, expected = local_sweep
    command = [sys.executable, "-m", "retinue.cli", "sweep", str(path), "--out", str(tmp_path / "pg")]
    done = subprocess.run([*command, "--workers", "2", "--db", postgres_url], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _metrics(tmp_path / "pg") == expected
    threads = {json.loads(run.read_text())["thread_id"] for run in (tmp_path / "pg" / "cells").glob("*/run.json")}
    assert len(threads) == 4 and not list((tmp_path / "pg" / "cells").glob("*/checkpoints.sqlite"))
    with psycopg.connect(postgres_url) as conn:
        stored = {row[0] for row in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")}
    assert stored == threads


QUESTIONS = [
    "what movies did [Temuera Morrison] act in\tOnce Were Warriors",
    "what does [Tom Cullen] act in\tWeekend",
    "what movies did [Evelyn Venable] act in\tAlice Adams",
] * 8
KILL_SWEEP = """command = "eval effiqa"
[options]
method = "io"
questions = "{questions}"
llm = "scripted"
script = "{script}"
no_cache = true
[grid]
seed = [0, 1]
"""


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no parent for {pid}")


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_killed_ray_worker_costs_only_its_cells_question_in_flight(tmp_path: Path) -> None:
    questions, script = tmp_path / "questions.txt", tmp_path / "script.json"
    questions.write_text("\n".join(QUESTIONS) + "\n")
    # Each call keeps a core busy for 0.25 s, so that the worker can be killed in the middle of the cell.
    script.write_text(json.dumps({"responses": [{"answer": "Weekend"}] * 60, "compute_seconds": 0.25}))
    path = tmp_path / "sweep.toml"
    path.write_text(KILL_SWEEP.format(questions=questions, script=script))
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "retinue.cli", "sweep", str(path), "--out", str(out), "--executor", "ray"]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cell = out / "cells" / "seed_0"

    def calls() -> int:
        try:
            return int(json.loads((cell / "usage.json").read_text())["total"]["calls"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return 0

    assert _wait(lambda: calls() >= 5, 300), "the cell never got going"
    process = json.loads((cell / "run.json").read_text())["pid"]
    worker = _parent(process)
    os.kill(worker, signal.SIGKILL)
    assert _wait(lambda: not process_alive(process), 10), "the cell's process outlived its Ray worker"
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr

    rows = _rows(out)
    assert rows["seed_0"]["status"] == rows["seed_1"]["status"] == "completed"
    record = json.loads((cell / "run.json").read_text())
    assert record["status"] == "completed" and record["resumed_at"] and record["pid"] != process
    # Same answers as the cell nobody killed; at most the question in flight was asked again.
    assert _metrics(out)["seed_0"] | {"cell": "", "seed": ""} == _metrics(out)["seed_1"] | {"cell": "", "seed": ""}
    assert len(QUESTIONS) <= json.loads((cell / "usage.json").read_text())["total"]["calls"] <= len(QUESTIONS) + 1
