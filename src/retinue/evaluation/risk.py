"""Risk measures over daily log returns (FinCon's in-episode risk control uses CVaR)."""

from collections.abc import Sequence

import numpy as np


def value_at_risk(daily_log_returns: Sequence[float] | np.ndarray, level: float = 0.05) -> float:
    """The `level` quantile of daily returns (a loss is negative), lower interpolation."""
    returns = np.asarray(daily_log_returns, dtype=float)
    if returns.size == 0:
        return 0.0
    return float(np.quantile(returns, level, method="lower"))


def conditional_value_at_risk(daily_log_returns: Sequence[float] | np.ndarray, level: float = 0.05) -> float:
    """Expected shortfall: the mean of the returns at or below the `level` VaR (negative means a loss)."""
    returns = np.asarray(daily_log_returns, dtype=float)
    if returns.size == 0:
        return 0.0
    var = value_at_risk(returns, level)
    return float(returns[returns <= var].mean())
