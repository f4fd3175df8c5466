"""FinCon as a trading method: each day it runs the compiled day team and turns decisions into weights.

Single stock: BUY holds a long position (+1), SELL a short one (-1), HOLD keeps yesterday's. Several
tickers split the book 1/n by the same rule (mean-variance weights are not built yet).
In-episode risk control: an alert when the run lost money yesterday or when the CVaR of its daily
returns fell (got worse) since the day before; the manager is then told to be risk-averse.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retinue.agents.fincon.state import FinconContext
from retinue.agents.trading.state import TradeDecision
from retinue.envs.market import MarketView
from retinue.evaluation.risk import conditional_value_at_risk

CVAR_LEVEL = 0.05
ACTION_SIGN = {"BUY": 1.0, "SELL": -1.0}


def risk_alert(past_returns: Sequence[float]) -> str | None:
    """Why the manager should be risk-averse today, or None."""
    if not past_returns:
        return None
    if past_returns[-1] < 0:
        return f"the portfolio lost {-100 * past_returns[-1]:.2f}% yesterday"
    if len(past_returns) >= 2:
        today = conditional_value_at_risk(past_returns, CVAR_LEVEL)
        before = conditional_value_at_risk(past_returns[:-1], CVAR_LEVEL)
        if today < before:
            return f"CVaR of daily returns fell from {100 * before:.2f}% to {100 * today:.2f}%"
    return None


@dataclass(frozen=True)
class FinconMethod:
    """Runs the day graph (compiled by the caller: agents never import graphs) with `context`."""

    day_graph: Any
    context: FinconContext

    def __call__(self, view: MarketView, past_returns: Sequence[float], previous: dict[str, float]) -> TradeDecision:
        tickers = sorted(view.closes)
        state = self.day_graph.invoke(
            {
                "index": view.index,
                "tickers": tickers,
                "previous": previous,
                "risk_alert": risk_alert(past_returns),
                "reports": [],
                "decisions": {},
            },
            context=self.context,
        )
        share = 1 / len(tickers)
        weights, reasons = {}, []
        for ticker in tickers:
            decision = state["decisions"][ticker]
            action = str(decision["action"])
            weights[ticker] = share * ACTION_SIGN[action] if action in ACTION_SIGN else previous.get(ticker, 0.0)
            reasons.append(f"{ticker} {action} ({float(decision['confidence']):.2f}): {decision['reasons']}")
        if state["risk_alert"]:
            reasons.append(f"risk alert: {state['risk_alert']}")
        return TradeDecision(weights, " | ".join(reasons))
