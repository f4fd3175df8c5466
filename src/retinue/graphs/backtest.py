"""The backtest graph: one step per trading day until the window's last day."""

from langgraph.graph import START, StateGraph

from retinue.agents.backtest import BacktestState, TradingContext, more_days, trade_day


def build_backtest_graph() -> StateGraph[BacktestState, TradingContext, BacktestState, BacktestState]:
    graph = StateGraph(BacktestState, context_schema=TradingContext)
    graph.add_node("trade_day", trade_day)
    graph.add_edge(START, "trade_day")
    graph.add_conditional_edges("trade_day", more_days, ["trade_day", "__end__"])
    return graph
