"""Sweep files, their grid of cells and each cell's command line."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.runs.sweep import cells, command_line, last_message, load_sweep
from tests.conftest import process_alive

SWEEP = """command = "backtest"
[options]
start = "2022-10-05"
cost_bps = 5
[grid]
tickers = ["TSLA", "MSFT,PFE"]
method = ["buy_and_hold", "momentum"]
"""


def test_the_grid_expands_to_named_cells_with_shared_options(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    spec = load_sweep(path)
    found = cells(spec)
    assert [c.name for c in found] == [
        "tickers_TSLA-method_buy_and_hold",
        "tickers_TSLA-method_momentum",
        "tickers_MSFT_PFE-method_buy_and_hold",
        "tickers_MSFT_PFE-method_momentum",
    ]
    assert found[2].options == {"start": "2022-10-05", "cost_bps": 5, "tickers": "MSFT,PFE", "method": "buy_and_hold"}
    line = command_line(spec, found[2], tmp_path / "cell")
    assert line[3:] == [
        "backtest",
        "--start",
        "2022-10-05",
        "--cost-bps",
        "5",
        "--tickers",
        "MSFT,PFE",
        "--method",
        "buy_and_hold",
        "--out",
        str(tmp_path / "cell"),
    ]
    (tmp_path / "cell").mkdir()
    (tmp_path / "cell" / "run.json").write_text("{}")
    assert command_line(spec, found[2], tmp_path / "cell")[3:] == ["backtest", "--resume", str(tmp_path / "cell")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('command = "train"\n[grid]\nseed = [1]\n', "'train' is not one of backtest, eval effiqa, eval tips"),
        ('command = "backtest"\n[grid]\n', "the grid needs at least one option"),
        ('command = "backtest"\n[grid]\nmethod = []\n', "the grid needs at least one option"),
        ("command = ", "is not valid TOML"),
    ],
)
def test_bad_sweep_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(RetinueError, match=message):
        load_sweep(path)
    with pytest.raises(RetinueError, match="sweep file not found"):
        load_sweep(tmp_path / "none.toml")


# A worker that starts a cell's process (with or without the parent's pid in its environment), reports the
# cell's pid once the cell has armed itself, then waits to be killed. No pipes: only the death signal can
# take the cell down with its worker.
WORKER = """
import os, subprocess, sys, time
env = dict(os.environ)
if sys.argv[2] == "armed":
    env["RETINUE_SWEEP_PARENT"] = str(os.getpid())
cell = "from retinue.runs.sweep import die_with_parent; import sys, time; die_with_parent(); "
cell += "open(sys.argv[1], 'w').write('ready'); time.sleep(60)"
child = subprocess.Popen([sys.executable, "-c", cell, sys.argv[1]], env=env, stdout=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("armed", [True, False])
def test_a_cells_process_dies_with_the_worker_that_started_it(tmp_path: Path, armed: bool) -> None:
    ready = tmp_path / "ready"
    command = [sys.executable, "-c", WORKER, str(ready), "armed" if armed else "plain"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as worker:
        assert worker.stdout is not None
        cell = int(worker.stdout.readline())
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.kill()
    deadline = time.monotonic() + 5
    while process_alive(cell) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert process_alive(cell) is not armed  # without the signal the orphan would go on writing to the cell
    finally:
        if process_alive(cell):
            os.kill(cell, signal.SIGKILL)


def test_a_failed_cells_message_is_the_text_inside_a_usage_box_not_its_frame() -> None:
    stderr = "Usage: retinue backtest [OPTIONS]\n╭─ Error ──────╮\n│ No such option: --methd │\n╰──────────────╯\n"
    assert last_message(stderr) == "No such option: --methd"
    assert last_message("warming up\nerror: unknown ticker 'NOPE'\n\n") == "error: unknown ticker 'NOPE'"
    assert last_message("╰──╯\n") is None
