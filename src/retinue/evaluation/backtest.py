"""Backtest metrics as in the FinCon paper, from daily log returns."""

import math
from collections.abc import Sequence

import numpy as np

TRADING_DAYS_PER_YEAR = 252


def equity_curve(daily_log_returns: Sequence[float] | np.ndarray) -> np.ndarray:
    """Portfolio value starting at 1.0, one point per window day."""
    return np.exp(np.concatenate([[0.0], np.cumsum(np.asarray(daily_log_returns, dtype=float))]))


def drawdown_pct(daily_log_returns: Sequence[float] | np.ndarray) -> np.ndarray:
    equity = equity_curve(daily_log_returns)
    return 100 * (1 - equity / np.maximum.accumulate(equity))


def backtest_metrics(daily_log_returns: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Cumulative log return (the sum of daily log returns, %, as the FinCon paper reports it), the simple
    return it amounts to (%, what the equity curve ends at), annualised Sharpe ratio, max drawdown (%)."""
    returns = np.asarray(daily_log_returns, dtype=float)
    std = float(returns.std(ddof=1)) if returns.size > 1 else 0.0
    sharpe = float(returns.mean() / std * math.sqrt(TRADING_DAYS_PER_YEAR)) if std > 0 else 0.0
    return {
        "cumulative_log_return_pct": round(float(100 * returns.sum()), 4),
        "simple_return_pct": round(float(100 * math.expm1(returns.sum())), 4),
        "sharpe_ratio": round(sharpe, 4),
        "max_drawdown_pct": round(float(drawdown_pct(returns).max()), 4),
        "annualised_volatility_pct": round(100 * std * math.sqrt(TRADING_DAYS_PER_YEAR), 4),
    }
