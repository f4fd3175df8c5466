"""The ask node: answers the next unanswered prompt, one per step, so that a stopped run resumes there."""

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END
from langgraph.runtime import Runtime

from retinue.agents.ask.state import Answer, AskContext, AskState
from retinue.llms.usage import ROLE_KEY
from retinue.prompts import load_prompts
from retinue.runs.context import report_progress

ROLE = "ask"


def answer_next(state: AskState, runtime: Runtime[AskContext]) -> dict[str, list[Answer]]:
    ctx = runtime.context
    index = len(state["answers"])
    prompt = state["prompts"][index]
    messages = [SystemMessage(load_prompts("retinue.agents.ask")["system"]), HumanMessage(prompt)]
    if ctx.schema is None:
        reply = ctx.llm.invoke(messages, config={"metadata": {ROLE_KEY: ROLE}})
        answer = Answer(
            prompt=prompt, text=str(reply.content), value=None, valid=True, attempts=1, fallback_reason=None
        )
    else:
        # a user's schema has no known safe value: "no answer", reported as such
        decision = ctx.decide(messages, ctx.schema, default=None, role=ROLE)
        answer = Answer(
            prompt=prompt,
            text=decision.raw,
            value=decision.value,
            valid=decision.valid,
            attempts=decision.attempts,
            fallback_reason=decision.fallback_reason,
        )
    report_progress(runtime.stream_writer, ROLE, index + 1, len(state["prompts"]))
    return {"answers": [answer]}


def more_prompts(state: AskState) -> str:
    return "answer_next" if len(state["answers"]) < len(state["prompts"]) else END
