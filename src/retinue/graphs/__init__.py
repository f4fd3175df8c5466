"""Graph builders: wiring only. Each returns an uncompiled StateGraph; callers compile it."""

from retinue.graphs.ask import build_ask_graph
from retinue.graphs.backtest import build_backtest_graph
from retinue.graphs.fincon import build_fincon_day_graph

__all__ = ["build_ask_graph", "build_backtest_graph", "build_fincon_day_graph"]
