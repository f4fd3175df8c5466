"""FinCon as a trading method: each day it runs the compiled day team and turns decisions into weights.

Single stock: BUY holds a long position (+1), SELL a short one (-1), HOLD none (0): as in FinMem's and
FinCon's accounting, the action in {+1, -1, 0} multiplies the next day's log return, so a risk-averse
manager can step aside. Portfolio: the manager's direction per ticker, then mean-variance weights over
the visible history with w in [0, 1] for a buy, [-1, 0] for a sell and 0 for a hold (`envs/portfolio.py`).
In-episode risk control: an alert when the run lost money yesterday or when the CVaR of its daily
returns fell (got worse) since the day before; the manager is then told to be risk-averse.
Memory: before deciding, the team learns from yesterday's outcome (`memory.learn_from_day`); after, the
day's recalled memories and decisions are recorded for tomorrow.
"""

import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langgraph.store.base import BaseStore

from retinue.agents.backtest.state import TradeDecision
from retinue.agents.fincon.memory import learn_from_day, record_day
from retinue.agents.fincon.state import FinconContext
from retinue.envs.market import MarketView
from retinue.envs.portfolio import directed_weights
from retinue.evaluation.risk import conditional_value_at_risk
from retinue.memory.namespaces import FINCON_MANAGER

CVAR_LEVEL = 0.05
ACTION_SIGN = {"BUY": 1, "SELL": -1, "HOLD": 0}


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
    """Runs the day graph (compiled by the caller: agents never import graphs) with `context`, the agents
    remembering in the backtest's store."""

    day_graph: Any
    context: FinconContext

    def __call__(
        self, view: MarketView, past_returns: Sequence[float], previous: dict[str, float], store: BaseStore
    ) -> TradeDecision:
        env = self.context.env
        assert env is not None
        if view.index > 0 and past_returns:
            learn_from_day(store, env.view(view.index - 1).day, past_returns[-1], view.day)
        tickers = sorted(view.closes)
        # In a fresh context: invoked inside the backtest's trade_day node, the day graph would otherwise
        # join the backtest's run as a checkpointed subgraph, and a day stopped midway would resume that
        # stale subgraph run instead of redoing the day. A day is one step of the backtest's checkpoints.
        state = contextvars.Context().run(
            self.day_graph.invoke,
            {
                "index": view.index,
                "tickers": tickers,
                "previous": previous,
                "risk_alert": risk_alert(past_returns),
                "reports": [],
                "decisions": {},
                "manager_recalled": [],
            },
            context=replace(self.context, store=store),
        )
        actions = {t: str(state["decisions"][t]["action"]) for t in tickers}
        recalled = {r["memory"]: r["recalled"] for r in state["reports"] if r.get("recalled")}
        if state["manager_recalled"]:
            recalled["/".join(FINCON_MANAGER)] = state["manager_recalled"]
        decided = {t: {"action": actions[t], "reasons": str(state["decisions"][t]["reasons"])} for t in tickers}
        record_day(store, view.day, recalled, decided)
        if len(tickers) == 1:
            (ticker,) = tickers
            weights = {ticker: float(ACTION_SIGN[actions[ticker]])}
        else:
            weights = directed_weights(view, {t: ACTION_SIGN[a] for t, a in actions.items()})
        reasons = []
        for ticker in tickers:
            decision = state["decisions"][ticker]
            reasons.append(f"{ticker} {actions[ticker]} ({float(decision['confidence']):.2f}): {decision['reasons']}")
        if state["risk_alert"]:
            reasons.append(f"risk alert: {state['risk_alert']}")
        return TradeDecision(weights, " | ".join(reasons))
