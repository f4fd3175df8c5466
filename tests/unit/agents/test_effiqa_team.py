"""EffiQA's team and its baselines with the scripted model: plan, explore, reflect, re-plan; call counting."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from retinue.agents.effiqa import EffiQAContext, EffiQASettings
from retinue.config import LLMConfig
from retinue.graphs.effiqa import BUILDERS
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.tools.kg_explorer import Exploration, FoundPath
from retinue.tools.knowledge_graph import KnowledgeGraph, Step

KB = """Kismet|directed_by|William Dieterle
Juarez|directed_by|William Dieterle
Kismet|starred_actors|Ronald Colman
Kismet|starred_actors|Marlene Dietrich
Kismet|starred_actors|Edward Arnold
Kismet|starred_actors|Joy Page
Kismet|written_by|Edward Knoblock
Juarez|release_year|1939
"""
DIRECTOR = FoundPath(
    (Step("directed_by"),), -0.1, ("William Dieterle",), ((("Kismet", "directed_by", "William Dieterle"),),), False
)
WRITER = FoundPath(
    (Step("written_by"),), -2.0, ("Edward Knoblock",), ((("Kismet", "written_by", "Edward Knoblock"),),), False
)


@dataclass
class ExplorerDouble:
    """Stands in for the plug-in explorer: fixed paths, and a record of what it was asked."""

    paths: tuple[FoundPath, ...] = (DIRECTOR, WRITER)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def explore(self, question: str, topic: Any, mention: Any = None, plan: Any = (), exclude: Any = ()) -> Exploration:
        self.calls.append({"plan": list(plan), "exclude": list(exclude)})
        kept = tuple(p for p in self.paths if p.steps not in exclude)
        return Exploration(kept, 3, 0.01, None)


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path = tmp_path_factory.mktemp("kg") / "kb.txt"
    path.write_text(KB, encoding="utf-8")
    return KnowledgeGraph.load(path)


def _run(method: str, kg: KnowledgeGraph | None, questions: list[str], responses: list[Any], explorer: Any = None):  # type: ignore[no-untyped-def]
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    context = EffiQAContext(
        llm=model,
        usage=usage,
        llm_config=LLMConfig(backoff_seconds=0),
        kg=kg,
        explorer=explorer,
        settings=EffiQASettings(),
    )
    graph = BUILDERS[method]().compile(checkpointer=InMemorySaver())
    final = graph.invoke(
        {"questions": questions, "current": None, "results": []},
        config={"configurable": {"thread_id": "t"}},
        context=context,
    )
    model.assert_all_used()
    return final["results"], model, usage


def test_reflector_rejects_a_path_and_the_planner_is_told_why(kg: KnowledgeGraph) -> None:
    explorer = ExplorerDouble()
    plan = {"topic": "Kismet", "path": ["written_by"], "answer_type": "person"}
    revise = {"verdict": "revise", "reason": "the question asks for the writer"}
    (result,), model, usage = _run("effiqa", kg, ["who wrote [Kismet]"], [plan, revise, plan], explorer)
    # round 1: planned path favoured, director path found best, rejected; round 2 (the last): answered unasked
    assert explorer.calls[0] == {"plan": [Step("written_by")], "exclude": []}
    assert explorer.calls[1]["exclude"] == [(Step("directed_by"),)]
    assert "the question asks for the writer" in str(model.calls[2].messages[-1].content)
    assert result["prediction"] == "Edward Knoblock" and result["path"] == ["written_by"]
    assert result["answers"] == ["Edward Knoblock"]
    assert result["supporting"] == [[["Kismet", "written_by", "Edward Knoblock"]]]
    assert result["rounds"] == 1 and result["reflections"][0]["path"] == ["directed_by"]
    assert result["llm_calls"] == len(model.calls) == usage.total().calls == 3
    assert result["tokens"] == usage.total().prompt_tokens + usage.total().completion_tokens


def test_an_accepted_path_costs_two_calls(kg: KnowledgeGraph) -> None:
    plan = {"topic": "Kismet", "path": ["directed_by"], "answer_type": "person"}
    (result,), model, _ = _run(
        "effiqa", kg, ["who directed [Kismet]"], [plan, {"verdict": "accept", "reason": "fits"}], ExplorerDouble()
    )
    assert (result["prediction"], result["llm_calls"], result["rounds"]) == ("William Dieterle", 2, 0)
    schema = model.calls[0].kwargs["response_schema"]
    assert "^directed_by" in schema["properties"]["path"]["items"]["enum"]  # the graph's own vocabulary


def test_questions_without_a_known_entity_are_answered_without_calls(kg: KnowledgeGraph) -> None:
    results, _, _ = _run(
        "effiqa", kg, ["who directed [Casablanca]", "what is the meaning of life"], [], ExplorerDouble()
    )
    assert [r["prediction"] for r in results] == [None, None]
    assert results[0]["note"] == "'Casablanca' is not an entity of the knowledge graph"
    assert results[1]["note"] == "no recognisable entity in the question"
    assert [r["llm_calls"] for r in results] == [0, 0]


def test_plugin_only_answers_with_no_model_calls(kg: KnowledgeGraph) -> None:
    (result,), model, _ = _run("plugin", kg, ["who directed [Kismet]"], [], ExplorerDouble())
    assert result["prediction"] == "William Dieterle" and not model.calls


def test_io_asks_once_without_the_graph() -> None:
    (result,), model, _ = _run("io", None, ["who directed [Kismet]"], [{"answer": "Michael Curtiz"}])
    assert (result["prediction"], result["llm_calls"], len(model.calls)) == ("Michael Curtiz", 1, 1)


def test_tog_prunes_with_the_model_at_every_hop(kg: KnowledgeGraph) -> None:
    responses = [
        {"relations": ["starred_actors"]},  # relation pruning at Kismet
        {"entities": ["Joy Page"]},  # four actors reached, more than the width of 3: the model prunes
        {"enough": True, "answer": "Joy Page"},
    ]
    (result,), model, _ = _run("tog", kg, ["who starred in [Kismet]"], responses)
    assert result["prediction"] == "Joy Page" and result["path"] == ["starred_actors"]
    assert result["supporting"] == [[["Kismet", "starred_actors", "Joy Page"]]]
    assert result["llm_calls"] == len(model.calls) == 3


def test_tog_takes_no_call_when_there_is_nothing_to_prune(kg: KnowledgeGraph) -> None:
    responses = [{"relations": ["directed_by"]}, {"enough": True, "answer": "William Dieterle"}]
    (result,), model, _ = _run("tog", kg, ["who directed [Kismet]"], responses)
    assert result["prediction"] == "William Dieterle" and len(model.calls) == 2


def test_failed_decisions_fall_back_and_still_count(kg: KnowledgeGraph, tmp_path: Path) -> None:
    (result,), model, usage = _run("io", None, ["who directed [Kismet]"], ["not json"] * 3)
    assert result["prediction"] is None and result["note"] == "the model gave no valid answer"
    assert result["llm_calls"] == 3 == len(model.calls) and usage.total().fallbacks == 1
