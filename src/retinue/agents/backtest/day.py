"""One trading day per graph step: a checkpoint after each, so a stopped backtest resumes at its day."""

from langgraph.graph import END
from langgraph.runtime import Runtime

from retinue.agents.backtest.state import BacktestState, DayRecord, TradingContext
from retinue.errors import RetinueError
from retinue.runs.context import report_progress


def trade_day(state: BacktestState, runtime: Runtime[TradingContext]) -> dict[str, object]:
    ctx = runtime.context
    index = state["index"]
    view = ctx.env.view(index)
    previous = state["days"][-1]["weights"] if state["days"] else {}
    if runtime.store is None:
        raise RetinueError("a backtest runs with a store (compile the graph with one)")
    decision = ctx.decide(view, [day["log_return"] for day in state["days"]], previous, runtime.store)
    result = ctx.env.realize(index, decision.weights, previous)
    record = DayRecord(
        date=result.day.isoformat(),
        next_date=result.next_day.isoformat(),
        weights=result.weights,
        prices={t: view.close(t) for t in ctx.env.tickers},
        log_return=result.log_return,
        cost=result.cost,
        reasons=decision.reasons,
    )
    report_progress(runtime.stream_writer, "days held", index + 1, ctx.env.trading_days - 1)
    return {"index": index + 1, "days": [record]}


def more_days(state: BacktestState) -> str:
    return "trade_day" if state["index"] < state["last"] else END
