"""Sweep files, their grid of cells and each cell's command line."""

from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.runs.sweep import cells, command_line, load_sweep

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
