"""FinCon's analysts: each digests one source for one ticker and reports only to the manager.

The data analyst computes its figures from prices. The text analysts (news, filings, earnings calls) each
add what became visible since the previous trading day to their layered memory, age it to today, recall
the best memories for their question and have the model read them into a typed report.
"""

from datetime import date, timedelta

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from retinue.agents.fincon.data_analyst import analyse_prices
from retinue.agents.fincon.memory import analyst_memory, as_memories, owner_label
from retinue.agents.fincon.state import (
    ROLES,
    SAFE_READING,
    AnalystReport,
    AnalystTask,
    FinconContext,
    FinconDayState,
    SourceReading,
)
from retinue.agents.prompts import load_prompts
from retinue.datasets.market_text import EARNINGS_CALL, TextArchive, TextItem
from retinue.errors import RetinueError

NEWS_DAYS = 3  # calendar days of news the first day of a run starts from
MEMORY_CHARS = 300  # of each recalled memory, in the prompt
SOURCES = {
    "news": (("news",), "news", 6, "{ticker} stock price news"),
    "filings": (("10-K", "10-Q"), "10-K or 10-Q", 3, "{ticker} revenue growth margins outlook risks"),
    "earnings_call": ((EARNINGS_CALL,), "earnings call", 3, "{ticker} guidance demand revenue outlook"),
}  # role: (kinds, what a user calls them, memories recalled, recall query)


def fan_out(state: FinconDayState) -> list[Send]:
    """One analyst task per source and ticker, run in parallel."""
    return [
        Send("analyst", AnalystTask(index=state["index"], ticker=ticker, role=role))
        for ticker in state["tickers"]
        for role in ROLES
    ]


def unseen(archive: TextArchive, ticker: str, kinds: tuple[str, ...], day: date, before: date | None) -> list[TextItem]:
    """Items first visible on `day`: dated on or after the previous trading day `before`. On a run's first
    day (`before` is None) an analyst starts from the last few days of news and the latest document of
    each other kind."""
    visible = archive.visible(ticker, day, kinds)
    if before is not None:
        return [i for i in visible if i.day >= before]
    since = day - timedelta(days=NEWS_DAYS)
    latest = {i.kind: i for i in visible if i.kind != "news"}
    return [i for i in visible if i.kind == "news" and i.day >= since] + list(latest.values())


def _read(ctx: FinconContext, role: str, prompt: str) -> tuple[SourceReading, bool]:
    decision = ctx.decide([HumanMessage(prompt)], SourceReading, default=SAFE_READING, role=f"{role}_analyst")
    return decision.value, not decision.valid


def analyst(task: AnalystTask, runtime: Runtime[FinconContext]) -> dict[str, list[AnalystReport]]:
    ctx = runtime.context
    if ctx.env is None or ctx.archive is None or ctx.store is None:
        raise RetinueError("FinCon's analysts need the market, its text and a store in their context")
    view = ctx.env.view(task["index"])
    ticker, role = task["ticker"], task["role"]
    belief = ctx.beliefs.get(role)
    if role == "data":
        prices = analyse_prices(view, ticker)
        signal = {"up": "positive", "down": "negative"}.get(prices.trend, "neutral")
        text = prices.summary() + (f" Belief: {belief}" if belief else "")
        return {"reports": [AnalystReport(role=role, ticker=ticker, signal=signal, text=text, fallback=False)]}
    kinds, name, k, query = SOURCES[role]
    memory = analyst_memory(ctx.store, role, ticker)
    before = ctx.env.view(task["index"] - 1).day if task["index"] > 0 else None
    memory.add_new([m for item in unseen(ctx.archive, ticker, kinds, view.day, before) for m in as_memories(item)])
    memory.advance(view.day)
    recalled = memory.retrieve(query.format(ticker=ticker), view.day, k=k)
    if not recalled:
        text = f"no {name} about {ticker} in memory on {view.day}"
        return {"reports": [AnalystReport(role=role, ticker=ticker, signal="none", text=text, fallback=False)]}
    memories = "\n".join(f"- {r.text[:MEMORY_CHARS]}" for r in recalled)
    scored = ""
    if role == "news" and ctx.sentiment is not None:  # a trained local model's reading of the same items
        scored = ctx.sentiment.summary([r.text for r in recalled])
        memories += f"\n{scored}"
    prompt = load_prompts("retinue.agents.fincon")[f"{role}_analyst"].format(
        ticker=ticker, day=view.day, memories=memories, belief=belief or "none yet"
    )
    reading, fell_back = _read(ctx, role, prompt)
    report = AnalystReport(
        role=role,
        ticker=ticker,
        signal=reading.signal,
        text=f"{reading.key_point} ({scored})" if scored else reading.key_point,
        fallback=fell_back,
        memory=owner_label(memory),
        recalled=[r.key for r in recalled],
    )
    return {"reports": [report]}
