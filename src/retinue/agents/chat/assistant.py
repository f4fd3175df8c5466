"""The assistant team: plain chat, with what it remembers of this session and of shared memory."""

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from retinue.agents.chat.state import ChatContext, ChatState
from retinue.llms.usage import ROLE_KEY
from retinue.memory.namespaces import SHARED_MEMORY, chat_session
from retinue.prompts import load_prompts

HISTORY_TURNS = 8  # messages of history sent to the model: a 270M model loses the thread beyond that
RECALLED = 3


def last_question(state: ChatState) -> str:
    for message in reversed(state["messages"]):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def remember(runtime: Runtime[ChatContext], turn: int, text: str) -> None:
    """Keep what the person said in this session's memory, keyed by turn so that a replayed step rewrites it."""
    if runtime.store is not None and text.strip():
        runtime.store.put(chat_session(runtime.context.session), f"turn-{turn:05d}", {"text": text})


def recall(runtime: Runtime[ChatContext], query: str) -> list[str]:
    store = runtime.store
    if store is None:
        return []
    found = []
    for namespace in (chat_session(runtime.context.session), SHARED_MEMORY):
        found += store.search(namespace, query=query, limit=RECALLED)
    found.sort(key=lambda item: -(item.score or 0.0))
    return [str(item.value.get("text", "")) for item in found[:RECALLED]]


def assistant(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    ctx = runtime.context
    question = last_question(state)
    prompts = load_prompts("retinue.agents.chat")
    system = prompts["assistant"]
    memories = [m for m in recall(runtime, question) if m != question]
    if memories:
        system += "\n" + prompts["assistant_memory"].format(memories="\n".join(f"- {m}" for m in memories))
    history: list[BaseMessage] = [SystemMessage(system), *state["messages"][-HISTORY_TURNS:]]
    reply = ctx.llm.invoke(history, config={"metadata": {ROLE_KEY: "assistant"}})
    remember(runtime, len(state["messages"]), question)
    return {"messages": [AIMessage(str(reply.content), name="assistant")]}
