"""Trivial trading agents over `MarketView`: each maps what it may see today to tomorrow's weights.

They smoke-test the market loop and are the baselines FinCon is compared with. With several tickers
each signal gets 1/n of the book.
"""

from collections.abc import Callable

import numpy as np

from retinue.envs.market import MarketView

Strategy = Callable[[MarketView], dict[str, float]]
MOMENTUM_LOOKBACK_DAYS = 20
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9


def buy_and_hold(view: MarketView) -> dict[str, float]:
    """Long from the first window day, holding the shares bought then (weights drift with prices)."""
    start = len(view.dates) - 1 - view.index  # the first window day's position in the history
    growth = {t: closes[-1] / closes[start] for t, closes in view.closes.items()}
    total = sum(growth.values())
    return {t: g / total for t, g in growth.items()}


def equal_weight(view: MarketView) -> dict[str, float]:
    """Long every ticker, rebalanced to 1/n each day."""
    return {t: 1 / len(view.closes) for t in view.closes}


def momentum(view: MarketView, lookback: int = MOMENTUM_LOOKBACK_DAYS) -> dict[str, float]:
    """Long if the close rose over the last `lookback` days, short if it fell, flat without history."""
    share = 1 / len(view.closes)
    weights = {}
    for ticker, closes in view.closes.items():
        change = closes[-1] / closes[-1 - lookback] - 1 if len(closes) > lookback else 0.0
        weights[ticker] = share * float(np.sign(change))
    return weights


def _ema(values: np.ndarray, span: int) -> np.ndarray:
    alpha = 2 / (span + 1)
    out = np.empty_like(values)
    out[0] = values[0]
    for i in range(1, len(values)):
        out[i] = alpha * values[i] + (1 - alpha) * out[i - 1]
    return out


def macd(view: MarketView) -> dict[str, float]:
    """Long when MACD (EMA12 - EMA26) is above its 9-day signal line, short when below."""
    share = 1 / len(view.closes)
    weights = {}
    for ticker, closes in view.closes.items():
        if len(closes) < MACD_SLOW + MACD_SIGNAL:
            weights[ticker] = 0.0
            continue
        line = _ema(closes, MACD_FAST) - _ema(closes, MACD_SLOW)
        signal = _ema(line, MACD_SIGNAL)
        weights[ticker] = share * float(np.sign(line[-1] - signal[-1]))
    return weights


def markowitz(view: MarketView) -> dict[str, float]:
    """Long-only mean-variance weights over the last 60 visible days, rebalanced daily."""
    from retinue.envs.portfolio import directed_weights

    return directed_weights(view, dict.fromkeys(view.closes, 1))


BASELINES: dict[str, Strategy] = {
    "buy_and_hold": buy_and_hold,
    "equal_weight": equal_weight,
    "momentum": momentum,
    "macd": macd,
    "markowitz": markowitz,
}
