"""FinCon's data analyst: momentum, volatility and CVaR of one ticker, from the prices visible today.

The figures are computed, not generated: the manager gets exact numbers, and the small model is left
with what it is for, weighing them against the text analysts' reports.
"""

import math

import numpy as np
from pydantic import BaseModel, Field

from retinue.envs.market import MarketView
from retinue.evaluation.risk import conditional_value_at_risk

MOMENTUM_DAYS = (5, 20)
VOLATILITY_DAYS = 20
CVAR_DAYS = 60
CVAR_LEVEL = 0.05


class PriceReport(BaseModel):
    """What the data analyst tells the manager about one ticker on one day."""

    ticker: str
    day: str
    close: float
    momentum_5d_pct: float = Field(description="Log return over the last 5 trading days, in %.")
    momentum_20d_pct: float = Field(description="Log return over the last 20 trading days, in %.")
    volatility_20d_pct: float = Field(description="Annualised std of daily log returns over 20 days, in %.")
    cvar_5pct_60d_pct: float = Field(description="Mean of the worst 5% daily log returns over 60 days, in %.")
    trend: str = Field(description="up, down or flat, from the 20-day momentum.")

    @property
    def signal(self) -> str:
        """The data analyst's signal: its trend as positive, negative or neutral."""
        return {"up": "positive", "down": "negative"}.get(self.trend, "neutral")

    def summary(self) -> str:
        return (
            f"{self.ticker} closed at {self.close:.2f} on {self.day}; momentum {self.momentum_5d_pct:+.2f}% (5d), "
            f"{self.momentum_20d_pct:+.2f}% (20d); volatility {self.volatility_20d_pct:.1f}% a year; "
            f"CVaR(5%, 60d) {self.cvar_5pct_60d_pct:.2f}% a day; trend {self.trend}."
        )


def _momentum_pct(closes: np.ndarray, days: int) -> float:
    if len(closes) <= days:
        return 0.0
    return 100 * math.log(closes[-1] / closes[-1 - days])


def analyse_prices(view: MarketView, ticker: str) -> PriceReport:
    closes = view.closes[ticker]
    returns = np.diff(np.log(closes))
    recent = returns[-VOLATILITY_DAYS:]
    volatility = 100 * float(recent.std(ddof=1)) * math.sqrt(252) if recent.size > 1 else 0.0
    momentum_20 = _momentum_pct(closes, MOMENTUM_DAYS[1])
    return PriceReport(
        ticker=ticker,
        day=view.day.isoformat(),
        close=float(closes[-1]),
        momentum_5d_pct=round(_momentum_pct(closes, MOMENTUM_DAYS[0]), 4),
        momentum_20d_pct=round(momentum_20, 4),
        volatility_20d_pct=round(volatility, 4),
        cvar_5pct_60d_pct=round(100 * conditional_value_at_risk(returns[-CVAR_DAYS:], CVAR_LEVEL), 4),
        trend="up" if momentum_20 > 1 else "down" if momentum_20 < -1 else "flat",
    )
