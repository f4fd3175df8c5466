"""Mean-variance weights under FinCon's sign constraints.

Given each ticker's direction (+1 buy, -1 sell, 0 hold) and the daily log returns visible so far,
maximise  mu.w - (risk_aversion / 2) w.Sigma.w  subject to w_i in [0, 1] for a buy, [-1, 0] for a sell,
0 for a hold, and sum |w_i| <= 1 (the rest is cash). With the signs fixed, v = direction * w lives in
the capped simplex {v >= 0, sum v <= 1}, so projected gradient ascent solves it exactly enough.
"""

import numpy as np

from retinue.envs.market import MarketView

LOOKBACK_DAYS = 60
RISK_AVERSION = 5.0
STEPS = 500


def project_capped_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto {v >= 0, sum(v) <= 1}."""
    clipped = np.clip(v, 0.0, None)
    if clipped.sum() <= 1.0:
        return clipped
    ordered = np.sort(v)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    rho = np.nonzero(ordered - cumulative / np.arange(1, len(v) + 1) > 0)[0][-1]
    theta = cumulative[rho] / (rho + 1)
    return np.clip(v - theta, 0.0, None)


def mean_variance_weights(
    returns: np.ndarray, directions: np.ndarray, risk_aversion: float = RISK_AVERSION
) -> np.ndarray:
    """`returns` is days x tickers of daily log returns; `directions` holds +1, -1 or 0 per ticker."""
    directions = np.sign(np.asarray(directions, dtype=float))
    active = directions != 0
    weights = np.zeros(len(directions))
    if not active.any() or returns.shape[0] < 2:
        return weights
    mu = returns[:, active].mean(axis=0) * directions[active]  # expected gain per unit of v
    sigma = np.atleast_2d(np.cov(returns[:, active], rowvar=False))
    signs = directions[active]
    sigma_v = sigma * np.outer(signs, signs)  # covariance of the signed positions
    step = 1.0 / (risk_aversion * max(float(np.linalg.eigvalsh(sigma_v).max()), 1e-12))
    v = np.full(int(active.sum()), 1.0 / active.sum())
    for _ in range(STEPS):
        v = project_capped_simplex(v + step * (mu - risk_aversion * sigma_v @ v))
    weights[active] = signs * v
    return weights


def trailing_returns(view: MarketView, tickers: list[str], days: int = LOOKBACK_DAYS) -> np.ndarray:
    """Daily log returns of the last `days` visible days, one column per ticker."""
    return np.column_stack([np.diff(np.log(view.closes[t]))[-days:] for t in tickers])


def directed_weights(view: MarketView, directions: dict[str, int]) -> dict[str, float]:
    """Mean-variance weights over the visible history for the given directions."""
    tickers = sorted(directions)
    weights = mean_variance_weights(trailing_returns(view, tickers), np.array([directions[t] for t in tickers]))
    return {t: float(w) for t, w in zip(tickers, weights, strict=True)}
