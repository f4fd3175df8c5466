"""Conceptual verbal reinforcement (CVRF): FinCon's risk control across training episodes.

After training episode k (k >= 2) is compared with episode k-1:
1. the better of the two is the one with the higher cumulative return;
2. the model writes one conceptual insight per aspect (`ASPECTS`: each analyst's source, and the
   manager's trading) from the days on which the two episodes acted differently (no valid reply: no
   insights, and the beliefs stay);
3. the learning rate tau is the overlap of the two episodes' action sequences: the share of
   (day, ticker) pairs on which both held the same position sign (long / flat / short);
4. each aspect's belief is revised toward its insight with that learning rate (a first insight becomes
   the belief), and a belief reaches only the agent of its aspect (`FinconContext.beliefs`).
Beliefs and each step's record live in the store under ("fincon", "beliefs") and ("fincon", "cvrf"),
so a test run, or a resumed training, starts from them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.store.base import BaseStore
from pydantic import BaseModel, Field

from retinue.agents.fincon.state import ASPECTS
from retinue.config import LLMConfig
from retinue.envs.market import DayRecord
from retinue.llms.structured import decide_as_configured
from retinue.llms.usage import UsageRecorder
from retinue.memory.namespaces import FINCON_BELIEFS, FINCON_CVRF
from retinue.prompts import load_prompts

DIFFERENT_DAYS_SHOWN = 6
ROLE = "risk_control"
Schema = TypeVar("Schema", bound=BaseModel)


class Insights(BaseModel):
    """One conceptual insight per aspect, as a rule the team can act on."""

    data: str = Field(min_length=12, max_length=160, description="About price momentum, volatility and risk.")
    news: str = Field(min_length=12, max_length=160, description="About reading the news.")
    filings: str = Field(min_length=12, max_length=160, description="About reading 10-K and 10-Q filings.")
    earnings_call: str = Field(min_length=12, max_length=160, description="About reading earnings calls.")
    manager: str = Field(min_length=12, max_length=160, description="About when to buy, sell or hold.")


class Belief(BaseModel):
    """An investment belief about one aspect."""

    belief: str = Field(min_length=12, max_length=200)


# The fallback when no valid insights come: nothing learnt, every belief stays as it is.
NO_INSIGHTS = Insights.model_construct(data="", news="", filings="", earnings_call="", manager="")


@dataclass(frozen=True)
class Episode:
    """A finished training episode: its days as the backtest recorded them."""

    number: int
    days: Sequence[DayRecord]

    @property
    def cumulative_log_return_pct(self) -> float:
        return 100 * sum(day["log_return"] for day in self.days)

    def signs(self) -> list[dict[str, int]]:
        return [{t: (w > 0) - (w < 0) for t, w in day["weights"].items()} for day in self.days]

    @property
    def trades(self) -> int:
        """Days on which some position changed sign."""
        signs = self.signs()
        flat = dict.fromkeys(signs[0], 0) if signs else {}
        return sum(1 for before, after in zip([flat, *signs], signs, strict=False) if before != after)


def action_overlap(a: Episode, b: Episode) -> float:
    """tau: the share of (day, ticker) pairs on which both episodes held the same position sign."""
    pairs = [(x.get(t, 0), y.get(t, 0)) for x, y in zip(a.signs(), b.signs(), strict=False) for t in set(x) | set(y)]
    return sum(1 for x, y in pairs if x == y) / len(pairs) if pairs else 1.0


def load_beliefs(store: BaseStore) -> dict[str, str]:
    return {item.key: str(item.value["text"]) for item in store.search(FINCON_BELIEFS, limit=len(ASPECTS))}


def steps_done(store: BaseStore) -> dict[int, dict[str, object]]:
    return {int(item.key): dict(item.value) for item in store.search(FINCON_CVRF, limit=10_000)}


def _differences(better: Episode, worse: Episode) -> str:
    lines = []
    for good, bad in zip(better.days, worse.days, strict=False):
        if good["weights"] != bad["weights"]:
            lines.append(f"- {good['date']}: better did {good['reasons'][:140]} | worse did {bad['reasons'][:140]}")
    return "\n".join(lines[:DIFFERENT_DAYS_SHOWN]) or "- the two episodes acted the same every day"


def _describe(episode: Episode) -> str:
    return f"episode {episode.number}: return {episode.cumulative_log_return_pct:+.2f}%, {episode.trades} trades"


def reinforce(
    llm: BaseChatModel,
    llm_config: LLMConfig,
    usage: UsageRecorder | None,
    store: BaseStore,
    previous: Episode,
    current: Episode,
) -> dict[str, object]:
    """One CVRF step after `current`; writes the revised beliefs and the step's record, returns the record.
    A step already recorded for `current` is not taken again."""
    done = store.get(FINCON_CVRF, str(current.number))
    if done is not None:
        return dict(done.value)
    better, worse = sorted((current, previous), key=lambda e: e.cumulative_log_return_pct, reverse=True)
    tau = action_overlap(previous, current)
    prompts = load_prompts("retinue.agents.fincon")

    def ask(prompt: str, schema: type[Schema], default: Schema) -> Schema:
        return decide_as_configured(
            llm, llm_config, [HumanMessage(prompt)], schema, default=default, role=ROLE, usage=usage
        ).value

    prompt = prompts["cvrf_insights"].format(
        better=_describe(better), worse=_describe(worse), differences=_differences(better, worse)
    )
    insights = ask(prompt, Insights, NO_INSIGHTS)
    beliefs = load_beliefs(store)
    for aspect in ASPECTS:
        insight = getattr(insights, aspect).strip()
        if not insight:
            continue
        old = beliefs.get(aspect)
        if old is None:
            beliefs[aspect] = insight
            continue
        revision = prompts["cvrf_revise"].format(aspect=aspect, belief=old, insight=insight, tau=tau)
        beliefs[aspect] = ask(revision, Belief, Belief.model_construct(belief=old)).belief
    for aspect, text in beliefs.items():
        store.put(FINCON_BELIEFS, aspect, {"text": text, "episode": current.number})
    record: dict[str, object] = {
        "episode": current.number,
        "compared_with": previous.number,
        "better": better.number,
        "tau": round(tau, 4),
        "insights": insights.model_dump(),
        "beliefs": beliefs,
    }
    store.put(FINCON_CVRF, str(current.number), record)  # last: the step counts as done only when beliefs are saved
    return record
