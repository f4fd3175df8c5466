"""Graph builders: wiring only. Each returns an uncompiled StateGraph; callers compile it.

The builders load on first use (PEP 562): a baseline backtest wires the day loop without importing
FinCon's agents and the models they load.
"""

from typing import TYPE_CHECKING

from retinue.lazy import lazy_names

if TYPE_CHECKING:
    from retinue.graphs.ask import build_ask_graph
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.graphs.fincon import build_fincon_day_graph

_HOMES = {"build_ask_graph": "ask", "build_backtest_graph": "backtest", "build_fincon_day_graph": "fincon"}
__all__ = ["build_ask_graph", "build_backtest_graph", "build_fincon_day_graph"]

__getattr__ = lazy_names(__name__, _HOMES)
