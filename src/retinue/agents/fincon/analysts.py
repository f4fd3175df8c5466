"""FinCon's analysts: each digests one source for one ticker and reports only to the manager."""

from datetime import timedelta

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from retinue.agents.fincon.data_analyst import analyse_prices
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
from retinue.llms.structured import decide

NEWS_DAYS = 3  # calendar days of headlines an analyst reads
MAX_HEADLINES = 8
HEADLINE_CHARS = 200
FILING_CHARS = 1500


def fan_out(state: FinconDayState) -> list[Send]:
    """One analyst task per source and ticker, run in parallel."""
    return [
        Send("analyst", AnalystTask(index=state["index"], ticker=ticker, role=role))
        for ticker in state["tickers"]
        for role in ROLES
    ]


def _read(ctx: FinconContext, role: str, prompt: str) -> tuple[SourceReading, bool]:
    decision = decide(
        ctx.llm,
        [HumanMessage(prompt)],
        SourceReading,
        default=SAFE_READING,
        role=f"{role}_analyst",
        attempts=ctx.llm_config.decision_attempts,
        backoff_seconds=ctx.llm_config.backoff_seconds,
        usage=ctx.usage,
    )
    return decision.value, not decision.valid


def analyst(task: AnalystTask, runtime: Runtime[FinconContext]) -> dict[str, list[AnalystReport]]:
    ctx = runtime.context
    assert ctx.env is not None and ctx.archive is not None
    view = ctx.env.view(task["index"])
    ticker, role = task["ticker"], task["role"]
    prompts = load_prompts("retinue.agents.fincon")
    if role == "data":
        prices = analyse_prices(view, ticker)
        signal = {"up": "positive", "down": "negative"}.get(prices.trend, "neutral")
        return {
            "reports": [AnalystReport(role=role, ticker=ticker, signal=signal, text=prices.summary(), fallback=False)]
        }
    if role == "news":
        since = view.day - timedelta(days=NEWS_DAYS)
        items = [i for i in ctx.archive.visible(ticker, view.day, kinds=("news",)) if i.day >= since]
        if not items:
            text = f"no news about {ticker} in the {NEWS_DAYS} days before {view.day}"
            return {"reports": [AnalystReport(role=role, ticker=ticker, signal="none", text=text, fallback=False)]}
        headlines = "\n".join(f"- {i.day}: {i.text[:HEADLINE_CHARS]}" for i in items[-MAX_HEADLINES:])
        prompt = prompts["news_analyst"].format(ticker=ticker, day=view.day, headlines=headlines)
    else:
        filings = ctx.archive.visible(ticker, view.day, kinds=("10-K", "10-Q"))
        if not filings:
            text = f"no 10-K or 10-Q for {ticker} before {view.day}"
            return {"reports": [AnalystReport(role=role, ticker=ticker, signal="none", text=text, fallback=False)]}
        latest = filings[-1]
        prompt = prompts["filings_analyst"].format(
            ticker=ticker, form=latest.kind, filed=latest.day, excerpt=latest.text[:FILING_CHARS]
        )
    reading, fell_back = _read(ctx, role, prompt)
    report = AnalystReport(role=role, ticker=ticker, signal=reading.signal, text=reading.key_point, fallback=fell_back)
    return {"reports": [report]}
