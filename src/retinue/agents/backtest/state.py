"""State and context of a backtest."""

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, NamedTuple, Protocol, TypedDict

from langgraph.store.base import BaseStore

from retinue.envs.market import DayRecord, MarketEnv, MarketView
from retinue.envs.market_baselines import Strategy


class BacktestState(TypedDict):
    index: int  # the next window day to decide
    last: int  # the window's last day, which has no next day to hold to
    days: Annotated[list[DayRecord], operator.add]


class TradeDecision(NamedTuple):
    """A method's weights for the next day, and why."""

    weights: dict[str, float]
    reasons: str


class TradingMethod(Protocol):
    """Decides a day's weights from what may be seen that day and the run's own daily returns so far;
    `store` is the backtest's durable store, for methods whose agents remember."""

    def __call__(
        self, view: MarketView, past_returns: Sequence[float], previous: dict[str, float], store: BaseStore
    ) -> TradeDecision: ...


@dataclass(frozen=True)
class Baseline:
    """A baseline strategy as a trading method; its reason is its name."""

    strategy: Strategy
    name: str

    def __call__(
        self, view: MarketView, past_returns: Sequence[float], previous: dict[str, float], store: BaseStore
    ) -> TradeDecision:
        return TradeDecision(self.strategy(view), self.name)


@dataclass(frozen=True)
class TradingContext:
    """The market replay and the method that decides each day's weights."""

    env: MarketEnv
    decide: TradingMethod
    method: str
