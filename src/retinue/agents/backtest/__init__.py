"""The trading-day loop shared by every backtest method: decide, hold for a day, account, repeat."""

from retinue.agents.backtest.day import more_days, trade_day
from retinue.agents.backtest.state import (
    BacktestState,
    Baseline,
    DayRecord,
    TradeDecision,
    TradingContext,
    TradingMethod,
)

__all__ = [
    "BacktestState",
    "Baseline",
    "DayRecord",
    "TradeDecision",
    "TradingContext",
    "TradingMethod",
    "more_days",
    "trade_day",
]
