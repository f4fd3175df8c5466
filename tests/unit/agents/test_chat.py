"""The chat graph with the scripted model: teams, memory per session, persistence across a restart."""

import sqlite3
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver

from retinue.agents.chat import ChatContext, TeamResources
from retinue.agents.chat.fincon_tools import BacktestMemory, FinconTools
from retinue.config import LLMConfig
from retinue.graphs.chat import build_chat_graph
from retinue.graphs.effiqa import build_effiqa_graph
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.memory.faiss_store import FaissStore
from retinue.memory.namespaces import FINCON_MANAGER, chat_session
from tests.conftest import HashEmbeddings
from tests.unit.agents.test_effiqa_team import KB, ExplorerDouble


def _store(path: Path) -> FaissStore:
    return FaissStore(path, index={"dims": 64, "embed": HashEmbeddings(64), "fields": ["text"]})


def _turn(folder: Path, session: str, text: str, responses: list[Any], team: str = "assistant", tools: Any = None):  # type: ignore[no-untyped-def]
    """One turn in a freshly opened chat (as after a restart): the graph, the database and the store reopened."""
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    conn = sqlite3.connect(folder / "sessions.sqlite", check_same_thread=False)
    store = _store(folder / "store")
    try:
        graph = build_chat_graph().compile(checkpointer=SqliteSaver(conn), store=store)
        context = ChatContext(
            llm=model, usage=usage, llm_config=LLMConfig(), session=session, tools=tools or TeamResources()
        )
        final = graph.invoke(
            {"messages": [HumanMessage(text)], "team": team},
            {"configurable": {"thread_id": session}},
            context=context,
        )
        memory = [item.value["text"] for item in store.search(chat_session(session), limit=20)]
    finally:
        store.close()
        conn.close()
    model.assert_all_used()
    return final, model, memory


def test_a_session_continues_after_a_restart_and_remembers(tmp_path: Path) -> None:
    first, _, _ = _turn(tmp_path, "a", "my name is Ada", ["Hello Ada."])
    assert [m.content for m in first["messages"]] == ["my name is Ada", "Hello Ada."]
    second, model, memory = _turn(tmp_path, "a", "what is my name?", ["Ada."])
    assert [m.content for m in second["messages"]] == ["my name is Ada", "Hello Ada.", "what is my name?", "Ada."]
    assert second["messages"][-1].name == "assistant"
    sent = [str(m.content) for m in model.calls[0].messages]
    assert "my name is Ada" in sent and "Hello Ada." in sent  # history reached the model
    assert "my name is Ada" in sent[0]  # and so did the session's memory, in the system prompt
    assert sorted(memory) == ["my name is Ada", "what is my name?"]


def test_sessions_never_see_each_others_messages_or_memory(tmp_path: Path) -> None:
    _turn(tmp_path, "a", "the launch code is 1234", ["Noted."])
    other, model, memory = _turn(tmp_path, "b", "what is the launch code?", ["I do not know."])
    assert [m.content for m in other["messages"]] == ["what is the launch code?", "I do not know."]
    assert not any("1234" in str(m.content) for m in model.calls[0].messages)
    assert memory == ["what is the launch code?"]


def test_the_effiqa_team_answers_with_supporting_triples(tmp_path: Path) -> None:
    from retinue.envs.knowledge_graph import KnowledgeGraph

    path = tmp_path / "kb.txt"
    path.write_text(KB)
    kg = KnowledgeGraph.load(path)
    tools = TeamResources(load_effiqa=lambda: (build_effiqa_graph().compile(), kg, ExplorerDouble()))
    plan = ["directed by", "end the path here"]  # the planner's picks, a step at a time
    accept = [{"reason": "a director, as asked"}, "accept"]  # the reflector's reason, then its verdict
    final, model, _ = _turn(tmp_path, "q", "who directed [Kismet]", plan + accept, "effiqa", tools)
    reply = final["messages"][-1]
    assert reply.name == "effiqa" and reply.content.startswith("William Dieterle")
    assert "(Kismet, directed_by, William Dieterle)" in reply.content
    # the planner's two picks with their PMI premises, the reflector's reason, verdict and its calibration
    assert final["team"] == "effiqa" and len(model.calls) == 7


def _last_choice(model: ScriptedChatModel) -> str:
    """The prompt of the last choice made (not a calibration)."""
    picks = [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]
    return str(picks[-1].messages[-1].content)


def test_the_fincon_team_works_the_asked_day_and_says_why(tmp_path: Path) -> None:
    from retinue.graphs.fincon import build_fincon_day_graph
    from retinue.paths import data_root

    tools = TeamResources(load_fincon=lambda: FinconTools(build_fincon_day_graph().compile(), None, data_root()))
    reading = [{"key_point": "deliveries beat"}, "positive"]  # the news analyst's key point, then its signal
    decision = [{"reasons": "the trend is down"}, "SELL"]  # the manager's reasoning, then its pick
    final, model, _ = _turn(
        tmp_path, "f", "What would you do with TSLA on 2023-01-05 and why?", reading + decision, "fincon", tools
    )
    assert final["messages"][-1].content == "SELL TSLA at the close of 2023-01-05 (confidence 0.90): the trend is down"
    manager_prompt = _last_choice(model)
    assert "deliveries beat" in manager_prompt and "2023-01-05" in manager_prompt
    unclear, model, _ = _turn(tmp_path, "f", "what about the weather?", [], "fincon", tools)
    assert unclear["messages"][-1].content.startswith("I need a day, written as YYYY-MM-DD")


def test_the_fincon_team_can_start_from_a_backtests_memory_and_beliefs(tmp_path: Path) -> None:
    from datetime import date

    from retinue.graphs.fincon import build_fincon_day_graph
    from retinue.memory.layered import LayeredMemory
    from retinue.paths import data_root
    from retinue.runs.execute import open_memory_store

    episode = "2022-12-30: BUY TSLA (momentum); the portfolio earned +3.10 %"
    with open_memory_store(tmp_path / "backtest" / "store") as store:
        LayeredMemory(store, FINCON_MANAGER).add(episode, date(2022, 12, 30), 60.0, key="2022-12-30 TSLA")
        before = len(store)
    start = BacktestMemory(
        tmp_path / "backtest", tmp_path / "backtest" / "store", {"manager": "cut losers"}, date(2023, 1, 3)
    )
    day_graph = build_fincon_day_graph().compile()
    tools = TeamResources(load_fincon=lambda: FinconTools(day_graph, None, data_root(), start))
    reading = [{"key_point": "deliveries beat"}, "positive"]
    decision = [{"reasons": "it worked last week"}, "BUY"]
    question = "What would you do with TSLA on 2023-01-05 and why?"
    (tmp_path / "chat").mkdir()
    final, model, _ = _turn(tmp_path / "chat", "f", question, reading + decision, "fincon", tools)
    assert final["messages"][-1].content.startswith("BUY TSLA at the close of 2023-01-05")
    manager_prompt = _last_choice(model)
    assert episode in manager_prompt and "cut losers" in manager_prompt
    with open_memory_store(tmp_path / "backtest" / "store") as store:
        assert len(store) == before  # the team worked on a copy

    early, model, _ = _turn(tmp_path / "chat", "g", "What about TSLA on 2023-01-03?", [], "fincon", tools)
    assert "ran to 2023-01-03: ask about a later day" in early["messages"][-1].content
