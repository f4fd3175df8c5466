"""State and context of a backtest."""

import operator
from dataclasses import dataclass
from typing import Annotated, TypedDict

from retinue.envs.market import MarketEnv
from retinue.envs.market_baselines import Strategy


class DayRecord(TypedDict):
    """One trading day: the weights held from its close to the next, what they earned, and why."""

    date: str
    next_date: str
    weights: dict[str, float]
    prices: dict[str, float]
    log_return: float
    cost: float
    reasons: str


class BacktestState(TypedDict):
    index: int  # the next window day to decide
    last: int  # the window's last day, which has no next day to hold to
    days: Annotated[list[DayRecord], operator.add]


@dataclass(frozen=True)
class TradingContext:
    """The market replay and the method that decides each day's weights."""

    env: MarketEnv
    strategy: Strategy
    method: str
