"""What the fincon chat team works with, apart from the team itself (so that `state.py` can name it
without importing the team)."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BacktestMemory:
    """A finished FinCon backtest the team starts from: its run directory, the store folder it remembered
    in, the beliefs it trained and its last day."""

    run: Path
    store: Path
    beliefs: dict[str, str]
    last_day: date


@dataclass(frozen=True)
class FinconTools:
    """FinCon's compiled day graph, a compiled backtest graph (with a store) for the baselines, the data
    root and, when given, the backtest whose memory the team starts from."""

    day_graph: Any
    backtests: Any
    data_root: Path
    start_from: BacktestMemory | None = None
