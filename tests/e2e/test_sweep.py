"""`retinue sweep` of backtests on the shared market data: cells in parallel, a failing cell retried and
reported, a rerun that skips finished cells and resumes a stopped one."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    rows = _rows(out)
    assert len(rows) == 6
    failed = rows["tickers_NOPE-method_momentum"]
    assert failed["status"] == "failed" and failed["tries"] == "2" and "unknown ticker 'NOPE'" in failed["error"]
    done = rows["tickers_NFLX-method_buy_and_hold"]
    cell = out / "cells" / "tickers_NFLX-method_buy_and_hold"
    assert done["status"] == "completed" and float(done["cumulative_return_pct"]) == pytest.approx(
        json.loads((cell / "metrics.json").read_text())["cumulative_return_pct"]
    )
    assert (out / "results.html").read_text().count("<tr>") == 7 and (out / "plots" / "sharpe_ratio.png").exists()

    (cell / "metrics.json").unlink()  # as if this cell had stopped before reporting
    second = _sweep(path, out)
    rows = _rows(out)
    assert rows["tickers_TSLA-method_momentum"]["status"] == "skipped"
    assert rows["tickers_NFLX-method_buy_and_hold"]["status"] == "completed"  # resumed from its run directory
    assert rows["tickers_NFLX-method_buy_and_hold"]["cumulative_return_pct"] == done["cumulative_return_pct"]
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


def test_local_and_ray_sweeps_give_the_same_metrics_cell_by_cell(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(EQUAL_SWEEP)
    local = _sweep(path, tmp_path / "local")
    command = [sys.executable, "-m", "retinue.cli", "sweep", str(path), "--out", str(tmp_path / "ray")]
    ray = subprocess.run([*command, "--executor", "ray"], capture_output=True, text=True, timeout=600)
    assert local.returncode == 0 and ray.returncode == 0, ray.stderr

    def metrics(out: Path) -> dict[str, dict[str, str]]:
        # times differ from run to run; every other figure must not
        return {cell: {k: v for k, v in row.items() if not k.endswith("seconds")} for cell, row in _rows(out).items()}

    assert len(metrics(tmp_path / "local")) == 4
    assert metrics(tmp_path / "local") == metrics(tmp_path / "ray")
