"""The effiqa team in chat: a question about the knowledge graph, answered with its supporting triples."""

import contextvars
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from retinue.agents.chat.assistant import last_question, remember
from retinue.agents.chat.state import ChatContext, ChatState
from retinue.agents.effiqa import EffiQAContext


def effiqa(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    ctx = runtime.context
    question = last_question(state)
    graph, kg, explorer = ctx.tools.effiqa()
    inner = EffiQAContext(llm=ctx.llm, usage=ctx.usage, llm_config=ctx.llm_config, kg=kg, explorer=explorer)
    # A fresh context, so the question graph does not join the chat's checkpoints as a subgraph.
    final = contextvars.Context().run(
        graph.invoke, {"questions": [question], "current": None, "results": []}, context=inner
    )
    result = final["results"][0]
    for step in _steps(result):
        runtime.stream_writer({"step": step})
    remember(runtime, len(state["messages"]), question)
    return {"messages": [AIMessage(answer_text(result), name="effiqa")]}


def answer_text(result: dict[str, Any]) -> str:
    if result["prediction"] is None:
        return f"I found no answer: {result['note']}."
    answers = result.get("answers") or [result["prediction"]]
    lines = [", ".join(answers[:8]) + (f" (and {len(answers) - 8} more)" if len(answers) > 8 else "")]
    if result["path"]:
        lines.append(f"(following {' / '.join(result['path'])})")
    for chain in result["supporting"]:
        lines.append("  " + "  ->  ".join(f"({h}, {r}, {t})" for h, r, t in chain))
    return "\n".join(lines)


def _steps(result: dict[str, Any]) -> list[dict[str, str]]:
    steps = []
    if result.get("plan"):
        plan = result["plan"]
        steps.append({"agent": "planner", "text": f"topic {plan['topic']}, path {' / '.join(plan['path']) or '?'}"})
    for reflection in result.get("reflections", []):
        steps.append(
            {"agent": "reflector", "text": f"rejected {' / '.join(reflection['path'])}: {reflection['reason']}"}
        )
    if result["path"]:
        steps.append({"agent": "explorer", "text": f"best path {' / '.join(result['path'])}"})
    return steps
