"""The fincon team in chat: "what would you do with TSLA on 2023-01-05 and why", and backtests of the
baseline strategies ("backtest TSLA from 2023-01-03 to 2023-03-31 with momentum") answered with their
metrics and equity curve.

The analysts and the manager work that one day exactly as in a backtest: prices up to the day, text
dated before it, each analyst's layered memory filled from the archive. The memory is a fresh one per
question, so nothing of one session's questions reaches another's: empty, or (`--fincon-run RUN_DIR`) a
copy of what a finished FinCon backtest remembered on its last day, with the beliefs it trained. Then only
days after that backtest may be asked about, or its memory would look ahead.
"""

import contextlib
import contextvars
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from retinue.agents.chat.assistant import last_question, remember
from retinue.agents.chat.fincon_tools import BacktestMemory, FinconTools
from retinue.agents.chat.state import ChatContext, ChatState
from retinue.agents.fincon import FinconContext
from retinue.errors import RetinueError

_TICKER = re.compile(r"\b[A-Z]{1,5}\b")
_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
USAGE = (
    "Ask about one ticker on one day, e.g. 'what would you do with TSLA on 2023-01-05 and why', or backtest a "
    "baseline: 'backtest TSLA from 2023-01-03 to 2023-03-31 with momentum'."
)
BACKTEST_USAGE = (
    "Backtest like this: 'backtest TSLA from 2023-01-03 to 2023-03-31 [with buy_and_hold|equal_weight|momentum|"
    "macd|markowitz]' (several tickers make a portfolio; FinCon itself runs with `retinue backtest`)"
)


def fincon(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    ctx = runtime.context
    question = last_question(state)
    remember(runtime, len(state["messages"]), question)
    if question.strip().lower().startswith("backtest"):
        try:
            return backtest_in_chat(ctx, question, len(state["messages"]))
        except RetinueError as error:
            return {"messages": [AIMessage(f"{error}. {BACKTEST_USAGE}", name="fincon")]}
    try:
        ticker, day, prices, archive = _market(ctx, question)
    except RetinueError as error:
        return {"messages": [AIMessage(f"{error}. {USAGE}", name="fincon")]}
    from retinue.envs.market import MarketEnv

    tools: FinconTools = ctx.tools.fincon()
    start = tools.start_from
    try:
        if start is not None and day <= start.last_day:
            raise RetinueError(
                f"the team remembers the backtest {start.run.name}, which ran to {start.last_day}: ask about a later "
                "day, or its memory would look ahead"
            )
        env = MarketEnv(prices, day, day + timedelta(days=14))
    except RetinueError as error:
        return {"messages": [AIMessage(f"{error}. {USAGE}", name="fincon")]}
    if start is not None:
        told = f"starting from the memory and beliefs of backtest {start.run.name} (to {start.last_day})"
        runtime.stream_writer({"step": {"agent": "fincon", "text": told}})
    with _team_memory(start) as store:
        beliefs = start.beliefs if start else {}
        team = FinconContext(
            llm=ctx.llm,
            usage=ctx.usage,
            llm_config=ctx.llm_config,
            env=env,
            archive=archive,
            store=store,
            beliefs=beliefs,
        )
        inputs = {
            "index": 0,
            "tickers": [ticker],
            "previous": {},
            "risk_alert": None,
            "reports": [],
            "decisions": {},
            "manager_recalled": [],
        }
        # A fresh context, so the day graph does not join the chat's checkpoints as a subgraph.
        result = contextvars.Context().run(tools.day_graph.invoke, inputs, context=team)
    for report in result["reports"]:
        runtime.stream_writer(
            {"step": {"agent": f"{report['role']} analyst", "text": f"{report['signal']}: {report['text']}"}}
        )
    decision = result["decisions"][ticker]
    traded = env.view(0).day
    reply = (
        f"{decision['action']} {ticker} at the close of {traded.isoformat()} "
        f"(confidence {float(decision['confidence']):.2f}): {decision['reasons']}"
    )
    return {"messages": [AIMessage(reply, name="fincon")]}


@contextlib.contextmanager
def _team_memory(start: BacktestMemory | None) -> Iterator[Any]:
    """A store for one question: empty, or a copy of the backtest's (which stays as it was)."""
    from retinue.runs.execute import open_memory_store

    if start is None:
        with open_memory_store(None) as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="retinue-fincon-chat-") as scratch:
        copy = Path(scratch) / "store"
        shutil.copytree(start.store, copy)
        with open_memory_store(copy) as store:
            yield store


def _market(ctx: ChatContext, question: str) -> tuple[str, date, Any, Any]:
    """The ticker and day a question names, with the ticker's prices and text from the data root."""
    from retinue.datasets.market_text import TextArchive
    from retinue.datasets.prices import load_prices

    root = ctx.tools.fincon().data_root
    days = _DAY.findall(question)
    if not days:
        raise RetinueError("I need a day, written as YYYY-MM-DD")
    try:
        day = date.fromisoformat(days[0])
    except ValueError:
        raise RetinueError(f"{days[0]} is not a date") from None
    for ticker in _TICKER.findall(question):
        try:
            prices = load_prices(root, [ticker])
        except RetinueError:
            continue  # a capitalised word that is not a ticker with data
        return ticker, day, prices, TextArchive.load(root, [ticker])
    raise RetinueError("I found no ticker with price data in the question")


def backtest_in_chat(ctx: ChatContext, question: str, turn: int) -> dict[str, Any]:
    """A baseline backtest over the named window, through the same backtest graph as `retinue backtest`;
    the reply carries its metrics and the equity curve as a picture."""
    from retinue.agents.backtest import Baseline, TradingContext
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv
    from retinue.envs.market_baselines import BASELINES
    from retinue.evaluation.backtest_report import plot_equity, summarise

    tools: FinconTools = ctx.tools.fincon()
    backtest_graph, root = tools.backtests, tools.data_root
    method = next((name for name in BASELINES if re.search(rf"\bwith {name}\b", question)), "buy_and_hold")
    if "with fincon" in question.lower():
        raise RetinueError("FinCon backtests take minutes of model calls per week: run them with `retinue backtest`")
    days = _DAY.findall(question)
    if len(days) != 2:
        raise RetinueError("I need a first and a last day, written as YYYY-MM-DD")
    try:
        start, end = (date.fromisoformat(d) for d in days)
    except ValueError as error:
        raise RetinueError(str(error)) from None
    tickers = []
    for word in dict.fromkeys(_TICKER.findall(question)):
        with contextlib.suppress(RetinueError):  # a capitalised word that is not a ticker with data
            load_prices(root, [word])
            tickers.append(word)
    if not tickers:
        raise RetinueError("I found no ticker with price data in the question")
    env = MarketEnv(load_prices(root, tickers), start, end)
    context = TradingContext(env=env, decide=Baseline(BASELINES[method], method), method=method)
    inputs = {"index": 0, "last": env.trading_days - 1, "days": []}
    config = {"recursion_limit": 2 * env.trading_days + 10}
    # A fresh context, so the backtest graph does not join the chat's checkpoints as a subgraph.
    final = contextvars.Context().run(backtest_graph.invoke, inputs, config=config, context=context)
    records = final["days"]
    metrics, benchmark = summarise(records, env)
    title = f"{method} on {', '.join(tickers)}, {records[0]['date']} to {records[-1]['next_date']}"
    reply = (
        f"{title}: cumulative return {metrics['cumulative_log_return_pct']:.2f} % (buy and hold "
        f"{metrics['buy_and_hold_cumulative_log_return_pct']:.2f} %), Sharpe ratio {metrics['sharpe_ratio']:.2f}, "
        f"max drawdown {metrics['max_drawdown_pct']:.2f} % over {len(records)} trading days."
    )
    if ctx.pictures is None:
        return {"messages": [AIMessage(reply, name="fincon")]}
    ctx.pictures.mkdir(parents=True, exist_ok=True)
    name = f"backtest-{turn:05d}.png"
    plot_equity(ctx.pictures / name, records, benchmark, title)
    return {"messages": [AIMessage(reply, name="fincon", additional_kwargs={"pictures": [name]})]}
