"""The fincon team in chat: "what would you do with TSLA on 2023-01-05 and why".

The analysts and the manager work that one day exactly as in a backtest: prices up to the day, text
dated before it, each analyst's layered memory filled from the archive. The memory is a fresh one per
question, so nothing of one session's questions reaches another's.
"""

import contextvars
import re
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from retinue.agents.chat.assistant import last_question, remember
from retinue.agents.chat.state import ChatContext, ChatState
from retinue.agents.fincon import FinconContext
from retinue.errors import RetinueError

_TICKER = re.compile(r"\b[A-Z]{1,5}\b")
_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
USAGE = "Ask about one ticker on one day, e.g. 'what would you do with TSLA on 2023-01-05 and why'."


def fincon(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    ctx = runtime.context
    question = last_question(state)
    remember(runtime, len(state["messages"]), question)
    try:
        ticker, day, prices, archive = _market(ctx, question)
    except RetinueError as error:
        return {"messages": [AIMessage(f"{error}. {USAGE}", name="fincon")]}
    from retinue.envs.market import MarketEnv
    from retinue.memory.embeddings import DIMENSIONS, MiniLMEmbeddings
    from retinue.memory.faiss_store import FaissStore

    try:
        env = MarketEnv(prices, day, day + timedelta(days=14))
    except RetinueError as error:
        return {"messages": [AIMessage(f"{error}. {USAGE}", name="fincon")]}
    day_graph, _ = ctx.tools.fincon()
    store = FaissStore(None, index={"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]})
    team = FinconContext(llm=ctx.llm, usage=ctx.usage, llm_config=ctx.llm_config, env=env, archive=archive, store=store)
    inputs = {
        "index": 0,
        "tickers": [ticker],
        "previous": {},
        "risk_alert": None,
        "reports": [],
        "decisions": {},
        "manager_recalled": [],
    }
    try:
        # A fresh context, so the day graph does not join the chat's checkpoints as a subgraph.
        result = contextvars.Context().run(day_graph.invoke, inputs, context=team)
    finally:
        store.close()
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


def _market(ctx: ChatContext, question: str) -> tuple[str, date, Any, Any]:
    """The ticker and day a question names, with the ticker's prices and text from the data root."""
    from retinue.datasets.market_text import TextArchive
    from retinue.datasets.prices import load_prices

    _, root = ctx.tools.fincon()
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
