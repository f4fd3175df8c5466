"""FinCon's manager: the only agent that decides, from its analysts' reports, beliefs and risk alerts."""

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from retinue.agents.fincon.state import SAFE_DECISION, FinconContext, FinconDayState, ManagerDecision
from retinue.agents.prompts import load_prompts
from retinue.llms.structured import decide

ROLE = "manager"


def _position(weight: float) -> str:
    return "long" if weight > 0 else "short" if weight < 0 else "flat"


def manager(state: FinconDayState, runtime: Runtime[FinconContext]) -> dict[str, dict[str, dict[str, object]]]:
    ctx = runtime.context
    assert ctx.env is not None
    prompts = load_prompts("retinue.agents.fincon")
    day = ctx.env.view(state["index"]).day
    beliefs = "; ".join(f"{aspect}: {belief}" for aspect, belief in sorted(ctx.beliefs.items())) or "none yet"
    decisions: dict[str, dict[str, object]] = {}
    for ticker in state["tickers"]:
        reports = "\n".join(
            f"- {r['role']} analyst ({r['signal']}): {r['text']}"
            for r in sorted(state["reports"], key=lambda r: r["role"])
            if r["ticker"] == ticker
        )
        messages: list[BaseMessage] = [
            HumanMessage(
                prompts["manager"].format(
                    ticker=ticker,
                    day=day,
                    position=_position(state["previous"].get(ticker, 0.0)),
                    reports=reports,
                    beliefs=beliefs,
                )
            )
        ]
        if state["risk_alert"]:
            messages.insert(0, SystemMessage(prompts["manager_risk_averse"].format(alert=state["risk_alert"])))
        decision = decide(
            ctx.llm,
            messages,
            ManagerDecision,
            default=SAFE_DECISION,
            role=ROLE,
            attempts=ctx.llm_config.decision_attempts,
            backoff_seconds=ctx.llm_config.backoff_seconds,
            usage=ctx.usage,
        )
        decisions[ticker] = {**decision.value.model_dump(), "valid": decision.valid}
    return {"decisions": decisions}
