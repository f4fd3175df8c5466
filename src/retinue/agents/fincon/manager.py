"""FinCon's manager: the only agent that decides, from its analysts' reports, its episodic memory, its
investment belief and the day's risk alert.

Per ticker it first writes its reasoning, then picks BUY, SELL or HOLD through the choice seam with that
reasoning in view (the options shown in a varying order, the pick calibrated against the same prompt
with no content). As in FinMem and FinCon, HOLD means no position that day.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from retinue.agents.fincon.memory import recall_episodes
from retinue.agents.fincon.state import ACTIONS, FinconContext, FinconDayState
from retinue.errors import RetinueError
from retinue.llms.choice import Choice, ChoicePrompt
from retinue.prompts import content_free, load_prompts
from retinue.runs.context import RunContext

ROLE = "manager"
EPISODES = 3  # past decisions recalled per ticker
SAFE_ACTION = "HOLD"  # no position
NO_REASONS = "no reasons given"
MEANINGS = {"BUY": "hold a long position", "SELL": "hold a short position", "HOLD": "hold no position"}
STEM = "Decision:"


class ManagerReasons(BaseModel):
    """The manager's reasoning, written before it decides."""

    reasons: str = Field(min_length=1, max_length=200, description="What the reports mean for tomorrow's price.")


@dataclass(frozen=True)
class ManagerCase:
    """What the manager weighs for one ticker on one day."""

    ticker: str
    day: str
    position: str  # long | short | flat
    reports: str
    episodes: str = "none yet"
    belief: str = "none yet"
    risk_alert: str | None = None


@dataclass(frozen=True)
class ManagerDecision:
    action: str
    reasons: str
    choice: Choice


def position_name(weight: float) -> str:
    return "long" if weight > 0 else "short" if weight < 0 else "flat"


def report_lines(reports: Iterable[tuple[str, str, str]]) -> str:
    """The analysts' (role, signal, text) reports as the manager reads them: one line each, by role."""
    return "\n".join(
        f"- {role} analyst ({signal}): {text}" for role, signal, text in sorted(reports, key=lambda r: r[0])
    )


def _messages(case: ManagerCase, closing: str, **fields: str) -> list[BaseMessage]:
    prompts = load_prompts("retinue.agents.fincon")
    situation = prompts["manager"].format(
        ticker=case.ticker,
        day=case.day,
        position=case.position,
        reports=case.reports,
        episodes=case.episodes,
        belief=case.belief,
    )
    messages: list[BaseMessage] = [HumanMessage(f"{situation}\n{prompts[closing].format(**fields)}")]
    if case.risk_alert:
        messages.insert(0, SystemMessage(prompts["manager_risk_averse"].format(alert=case.risk_alert)))
    return messages


def decision_prompt(case: ManagerCase, reasons: str) -> ChoicePrompt:
    """The choice the manager makes once it has written `reasons`."""
    prompts = load_prompts("retinue.agents.fincon")
    template = f"{prompts['manager']}\n{prompts['manager_decision']}"
    free: list[BaseMessage] = [HumanMessage(content_free(template))]
    if case.risk_alert:
        free.insert(0, SystemMessage(content_free(prompts["manager_risk_averse"])))
    return ChoicePrompt(
        messages=_messages(case, "manager_decision", reasons=reasons, options="{options}"),
        options=list(ACTIONS),
        stem=STEM,
        content_free=free,
        meanings=MEANINGS,
    )


def write_reasons(ctx: RunContext, case: ManagerCase) -> str:
    """What the manager writes before it decides: its weighing of the reports."""
    written = ctx.decide(
        _messages(case, "manager_reasons", ticker=case.ticker),
        ManagerReasons,
        default=ManagerReasons(reasons=NO_REASONS),
        role=ROLE,
    )
    return written.value.reasons.strip() or NO_REASONS


def decide_position(ctx: RunContext, case: ManagerCase, order: Sequence[str] | None = None) -> ManagerDecision:
    """The manager's reasoning, then its pick with that reasoning in view."""
    reasons = write_reasons(ctx, case)
    choice = ctx.choose(decision_prompt(case, reasons), default=SAFE_ACTION, role=ROLE, order=order)
    return ManagerDecision(choice.value, reasons if choice.valid else f"fallback: {choice.fallback_reason}", choice)


def manager(state: FinconDayState, runtime: Runtime[FinconContext]) -> dict[str, object]:
    ctx = runtime.context
    if ctx.env is None or ctx.store is None:
        raise RetinueError("FinCon's manager needs the market and a store in its context")
    day = ctx.env.view(state["index"]).day
    decisions: dict[str, dict[str, object]] = {}
    recalled: list[str] = []
    for ticker in state["tickers"]:
        reports = report_lines((r["role"], r["signal"], r["text"]) for r in state["reports"] if r["ticker"] == ticker)
        episodes = recall_episodes(ctx.store, f"{ticker} {reports}", day, EPISODES)
        recalled += [e.key for e in episodes]
        case = ManagerCase(
            ticker=ticker,
            day=day.isoformat(),
            position=position_name(state["previous"].get(ticker, 0.0)),
            reports=reports,
            episodes="\n".join(f"- {e.text}" for e in episodes) or "none yet",
            belief=ctx.beliefs.get(ROLE) or "none yet",
            risk_alert=state["risk_alert"],
        )
        decision = decide_position(ctx, case)
        decisions[ticker] = {
            "action": decision.action,
            "confidence": decision.choice.confidence,
            "reasons": decision.reasons,
            "valid": decision.choice.valid,
            "probabilities": decision.choice.probabilities,
        }
    return {"decisions": decisions, "manager_recalled": sorted(set(recalled))}
