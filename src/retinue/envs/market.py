"""A point-in-time market replay with portfolio accounting.

On window day t an agent sees closing prices up to and including t, never later (`MarketView`). Its
weights (per ticker, in [-1, 1]: +1 long, 0 flat, -1 short; |weights| sum to at most 1) are held from
the close of t to the close of t+1 and earn the daily log return of each stock, as in the FinCon paper:
r_t+1 = sum_i w_i * log(p_i,t+1 / p_i,t) - cost, with cost = cost_bps/10^4 * sum_i |w_i - d_i|, where d
are yesterday's weights drifted by today's prices (d_i = w'_i g_i / (1 + sum_j w'_j (g_j - 1)), g the
price ratio): a position left alone trades nothing, so holding shares costs nothing after the first day.
Weights are rebalanced daily. The window's last day has no next day, so N window days give N-1 returns.

The environment is a pure function of the day index (`view(i)`, `realize(i, ...)`), which makes a
checkpointed run resumable at any day; `reset()`/`step()` wrap it in the usual protocol.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

import numpy as np

from retinue.datasets.prices import PriceSeries
from retinue.errors import RetinueError

WEIGHT_TOLERANCE = 1e-9


class DayRecord(TypedDict):
    """One trading day: the weights held from its close to the next, what they earned, and why."""

    date: str
    next_date: str
    weights: dict[str, float]
    prices: dict[str, float]
    log_return: float
    cost: float
    reasons: str


@dataclass(frozen=True)
class MarketView:
    """What an agent may see on one window day: nothing after its close."""

    day: date
    index: int
    dates: tuple[date, ...]
    closes: dict[str, np.ndarray] = field(repr=False)

    def close(self, ticker: str) -> float:
        return float(self.closes[ticker][-1])


@dataclass(frozen=True)
class DayResult:
    """The outcome of holding `weights` from the close of `day` to the close of the next window day."""

    day: date
    next_day: date
    weights: dict[str, float]
    log_return: float
    cost: float


class MarketEnv:
    """Replays the common trading days of `prices` between `start` and `end` (inclusive)."""

    def __init__(self, prices: dict[str, PriceSeries], start: date, end: date, cost_bps: float = 0.0) -> None:
        if not prices:
            raise RetinueError("a backtest needs at least one ticker")
        if start > end:
            raise RetinueError(f"start {start} is after end {end}")
        if cost_bps < 0:
            raise RetinueError(f"cost_bps must be >= 0, got {cost_bps}")
        self.prices = prices
        self.tickers = sorted(prices)
        self.cost_bps = cost_bps
        common = sorted(set.intersection(*(set(series.dates) for series in prices.values())))
        first, last = common[0], common[-1]
        if start < first or end > last:
            raise RetinueError(
                f"{start}..{end} is outside the price data ({first}..{last} for {', '.join(self.tickers)})"
            )
        self.dates: tuple[date, ...] = tuple(common)
        aligned = {t: dict(zip(s.dates, s.close, strict=True)) for t, s in prices.items()}
        self.closes = {t: np.asarray([aligned[t][d] for d in common]) for t in self.tickers}
        self.window = [i for i, d in enumerate(common) if start <= d <= end]
        if len(self.window) < 2:
            raise RetinueError(f"{start}..{end} holds {len(self.window)} trading day(s); a backtest needs 2 or more")
        self._cursor = 0
        self._weights: dict[str, float] = {}

    @property
    def trading_days(self) -> int:
        return len(self.window)

    def view(self, index: int) -> MarketView:
        """Window day `index` as an agent sees it (prices up to and including that day)."""
        at = self.window[index]
        return MarketView(
            day=self.dates[at],
            index=index,
            dates=self.dates[: at + 1],
            closes={t: self.closes[t][: at + 1] for t in self.tickers},
        )

    def check_weights(self, weights: dict[str, float]) -> dict[str, float]:
        unknown = set(weights) - set(self.tickers)
        if unknown:
            raise RetinueError(f"weights for unknown ticker(s): {', '.join(sorted(unknown))}")
        full = {t: float(weights.get(t, 0.0)) for t in self.tickers}
        if any(not -1 - WEIGHT_TOLERANCE <= w <= 1 + WEIGHT_TOLERANCE for w in full.values()):
            raise RetinueError(f"each weight must lie in [-1, 1]: {full}")
        if sum(abs(w) for w in full.values()) > 1 + 1e-6:
            raise RetinueError(f"absolute weights must sum to at most 1: {full}")
        return full

    def realize(self, index: int, weights: dict[str, float], previous: dict[str, float]) -> DayResult:
        """Hold `weights` from window day `index` to the next; the log return after costs."""
        if not 0 <= index < len(self.window) - 1:
            raise RetinueError(f"day {index} has no next trading day in the window")
        full = self.check_weights(weights)
        at, nxt = self.window[index], self.window[index + 1]
        gross = sum(w * math.log(self.closes[t][nxt] / self.closes[t][at]) for t, w in full.items())
        held = self.drifted(index, previous)
        turnover = sum(abs(full[t] - held.get(t, 0.0)) for t in self.tickers)
        cost = self.cost_bps / 10_000 * turnover
        return DayResult(self.dates[at], self.dates[nxt], full, gross - cost, cost)

    def drifted(self, index: int, previous: dict[str, float]) -> dict[str, float]:
        """`previous`, the weights held into window day `index`, as today's prices have moved them. Kept
        as they are on the first day (nothing was held before it) and if the book would be worth nothing."""
        if index == 0 or not previous:
            return previous
        before, at = self.window[index - 1], self.window[index]
        grown = {t: float(w * self.closes[t][at] / self.closes[t][before]) for t, w in previous.items()}
        value = 1 + sum(grown.values()) - sum(previous.values())
        return {t: v / value for t, v in grown.items()} if value > 0 else previous

    # The reset()/step() protocol over the pure functions above.
    def reset(self) -> MarketView:
        self._cursor, self._weights = 0, {}
        return self.view(0)

    def step(self, action: dict[str, float]) -> tuple[MarketView, float, bool, dict[str, Any]]:
        result = self.realize(self._cursor, action, self._weights)
        self._cursor += 1
        self._weights = result.weights
        done = self._cursor == len(self.window) - 1
        return self.view(self._cursor), result.log_return, done, {"result": result}
