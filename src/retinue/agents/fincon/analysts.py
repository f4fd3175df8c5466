"""FinCon's analysts: each digests one source for one ticker and reports only to the manager.

The data analyst computes its figures from prices. The text analysts (news, filings, earnings calls) each
add what became visible since the previous trading day to their layered memory, age it to today, recall
the best memories for their question and have the model read them: first the fact that matters most,
then, with that fact in view, the signal, picked through the choice seam.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, Field

from retinue.agents.fincon.data_analyst import analyse_prices
from retinue.agents.fincon.memory import analyst_memory, as_memories, owner_label
from retinue.agents.fincon.state import ROLES, SIGNALS, AnalystReport, AnalystTask, FinconContext, FinconDayState
from retinue.datasets.market_text import EARNINGS_CALL, TextArchive, TextItem
from retinue.errors import RetinueError
from retinue.llms.choice import Choice, ChoicePrompt
from retinue.prompts import content_free, load_prompts
from retinue.runs.context import RunContext

NEWS_DAYS = 3  # calendar days of news the first day of a run starts from
MEMORY_CHARS = 300  # of each recalled memory, in the prompt
SOURCES = {
    "news": (("news",), "news", 6, "{ticker} stock price news"),
    "filings": (("10-K", "10-Q"), "10-K or 10-Q", 3, "{ticker} revenue growth margins outlook risks"),
    "earnings_call": ((EARNINGS_CALL,), "earnings call", 3, "{ticker} guidance demand revenue outlook"),
}  # role: (kinds, what a user calls them, memories recalled, recall query)
SAFE_SIGNAL = "neutral"
NO_KEY_POINT = "no valid reading"
STEM = "Signal:"


class KeyPoint(BaseModel):
    """The fact an analyst found to matter most, written before it gives its signal."""

    key_point: str = Field(min_length=1, max_length=160, description="The one fact that matters most.")


@dataclass(frozen=True)
class Reading:
    """An analyst's reading of its source: the fact that matters most, then the signal."""

    key_point: str
    choice: Choice

    @property
    def signal(self) -> str:
        return self.choice.value


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


def nothing_read(role: str, ticker: str, day: str) -> str:
    """What a text analyst reports when its memory holds nothing of its source."""
    return f"no {SOURCES[role][1]} about {ticker} in memory on {day}"


def signal_prompt(role: str, ticker: str, day: str, memories: str, belief: str, key_point: str) -> ChoicePrompt:
    """The choice of signal a text analyst makes once it has written its key point."""
    prompts = load_prompts("retinue.agents.fincon")
    template = f"{prompts[f'{role}_analyst']}\n{prompts['analyst_signal']}"
    situation = {"ticker": ticker, "day": day, "memories": memories, "belief": belief, "key_point": key_point}
    return ChoicePrompt(
        messages=[HumanMessage(template.format(**situation, options="{options}"))],
        options=list(SIGNALS),
        stem=STEM,
        content_free=[HumanMessage(content_free(template))],
    )


def read_source(
    ctx: RunContext,
    role: str,
    ticker: str,
    day: str,
    memories: str,
    belief: str,
    order: Sequence[str] | None = None,
) -> Reading:
    """A text analyst's reading of `memories`: its key point, then its signal with the key point in view."""
    prompts = load_prompts("retinue.agents.fincon")
    situation = prompts[f"{role}_analyst"].format(ticker=ticker, day=day, memories=memories, belief=belief)
    written = ctx.decide(
        [HumanMessage(f"{situation}\n{prompts['analyst_key_point']}")],
        KeyPoint,
        default=KeyPoint(key_point=NO_KEY_POINT),
        role=f"{role}_analyst",
    )
    key_point = written.value.key_point.strip() or NO_KEY_POINT
    prompt = signal_prompt(role, ticker, day, memories, belief, key_point)
    choice = ctx.choose(prompt, default=SAFE_SIGNAL, role=f"{role}_analyst", order=order)
    return Reading(key_point, choice)


def analyst(task: AnalystTask, runtime: Runtime[FinconContext]) -> dict[str, list[AnalystReport]]:
    ctx = runtime.context
    if ctx.env is None or ctx.archive is None or ctx.store is None:
        raise RetinueError("FinCon's analysts need the market, its text and a store in their context")
    view = ctx.env.view(task["index"])
    ticker, role = task["ticker"], task["role"]
    belief = ctx.beliefs.get(role)
    if role == "data":
        prices = analyse_prices(view, ticker)
        text = prices.summary() + (f" Belief: {belief}" if belief else "")
        return {"reports": [AnalystReport(role=role, ticker=ticker, signal=prices.signal, text=text, fallback=False)]}
    kinds, _, k, query = SOURCES[role]
    memory = analyst_memory(ctx.store, role, ticker)
    before = ctx.env.view(task["index"] - 1).day if task["index"] > 0 else None
    memory.add_new([m for item in unseen(ctx.archive, ticker, kinds, view.day, before) for m in as_memories(item)])
    memory.advance(view.day)
    recalled = memory.retrieve(query.format(ticker=ticker), view.day, k=k)
    if not recalled:
        text = nothing_read(role, ticker, view.day.isoformat())
        return {"reports": [AnalystReport(role=role, ticker=ticker, signal="none", text=text, fallback=False)]}
    memories = "\n".join(f"- {r.text[:MEMORY_CHARS]}" for r in recalled)
    scored = ""
    if role == "news" and ctx.sentiment is not None:  # a trained local model's reading of the same items
        scored = ctx.sentiment.summary([r.text for r in recalled])
        memories += f"\n{scored}"
    reading = read_source(ctx, role, ticker, view.day.isoformat(), memories, belief or "none yet")
    report = AnalystReport(
        role=role,
        ticker=ticker,
        signal=reading.signal,
        text=f"{reading.key_point} ({scored})" if scored else reading.key_point,
        fallback=not reading.choice.valid,
        memory=owner_label(memory),
        recalled=[r.key for r in recalled],
    )
    return {"reports": [report]}
