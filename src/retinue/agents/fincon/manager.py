"""FinCon's manager: the only agent that decides, from its analysts' reports, its episodic memory, its
investment belief and the day's risk alert."""

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from retinue.agents.fincon.memory import recall_episodes
from retinue.agents.fincon.state import SAFE_DECISION, FinconContext, FinconDayState, ManagerDecision
from retinue.agents.prompts import load_prompts
from retinue.errors import RetinueError

ROLE = "manager"
EPISODES = 3  # past decisions recalled per ticker


def _position(weight: float) -> str:
    return "long" if weight > 0 else "short" if weight < 0 else "flat"


def manager(state: FinconDayState, runtime: Runtime[FinconContext]) -> dict[str, object]:
    ctx = runtime.context
    if ctx.env is None or ctx.store is None:
        raise RetinueError("FinCon's manager needs the market and a store in its context")
    prompts = load_prompts("retinue.agents.fincon")
    day = ctx.env.view(state["index"]).day
    decisions: dict[str, dict[str, object]] = {}
    recalled: list[str] = []
    for ticker in state["tickers"]:
        reports = "\n".join(
            f"- {r['role']} analyst ({r['signal']}): {r['text']}"
            for r in sorted(state["reports"], key=lambda r: r["role"])
            if r["ticker"] == ticker
        )
        episodes = recall_episodes(ctx.store, f"{ticker} {reports}", day, EPISODES)
        recalled += [e.key for e in episodes]
        messages: list[BaseMessage] = [
            HumanMessage(
                prompts["manager"].format(
                    ticker=ticker,
                    day=day,
                    position=_position(state["previous"].get(ticker, 0.0)),
                    reports=reports,
                    episodes="\n".join(f"- {e.text}" for e in episodes) or "none yet",
                    belief=ctx.beliefs.get(ROLE) or "none yet",
                )
            )
        ]
        if state["risk_alert"]:
            messages.insert(0, SystemMessage(prompts["manager_risk_averse"].format(alert=state["risk_alert"])))
        decision = ctx.decide(messages, ManagerDecision, default=SAFE_DECISION, role=ROLE)
        decisions[ticker] = {**decision.value.model_dump(), "valid": decision.valid}
    return {"decisions": decisions, "manager_recalled": sorted(set(recalled))}
