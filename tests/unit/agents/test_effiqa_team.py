"""EffiQA's team and its baselines with the scripted model: plan, explore, reflect, re-plan; call counting."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from retinue.agents.effiqa import EffiQAContext, EffiQASettings
from retinue.agents.effiqa.planner import END
from retinue.config import LLMConfig
from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.graphs.effiqa import BUILDERS
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.tools.kg_explorer import Exploration, FoundPath

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

    def explore(
        self,
        question: str,
        topic: Any,
        mention: Any = None,
        plan: Any = (),
        exclude: Any = (),
        follow_plan: bool = False,
    ) -> Exploration:
        self.calls.append({"plan": list(plan), "exclude": list(exclude), "follow_plan": follow_plan})
        kept = tuple(p for p in self.paths if p.steps not in exclude)
        return Exploration(kept, 3, 0.01, None)


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path = tmp_path_factory.mktemp("kg") / "kb.txt"
    path.write_text(KB, encoding="utf-8")
    return KnowledgeGraph.load(path)


def _run(  # type: ignore[no-untyped-def]
    method: str,
    kg: KnowledgeGraph | None,
    questions: list[str],
    responses: list[Any],
    explorer: Any = None,
    settings: EffiQASettings | None = None,
):
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    context = EffiQAContext(
        llm=model,
        usage=usage,
        llm_config=LLMConfig(backoff_seconds=0),
        kg=kg,
        explorer=explorer,
        settings=settings or EffiQASettings(),
    )
    graph = BUILDERS[method]().compile(checkpointer=InMemorySaver())
    final = graph.invoke(
        {"questions": questions, "current": None, "results": []},
        config={"configurable": {"thread_id": "t"}},
        context=context,
    )
    model.assert_all_used()
    return final["results"], model, usage


def _picks(model: ScriptedChatModel) -> list[str]:
    """The prompts of the choices made (not their calibration), in order."""
    return [
        str(c.messages[-1].content) for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]
    ]


def test_reflector_rejects_a_path_and_the_planner_is_told_why(kg: KnowledgeGraph) -> None:
    explorer = ExplorerDouble()
    plan = ["written by", END]  # a step picked from what leads on from Kismet, then the path's end
    revise = [{"reason": "the question asks for the writer"}, "revise"]
    (result,), model, usage = _run("effiqa", kg, ["who wrote [Kismet]"], [*plan, *revise, *plan], explorer)
    # round 1: planned path favoured, director path found best, rejected; round 2 (the last): answered unasked
    assert explorer.calls[0] == {"plan": [Step("written_by")], "exclude": [], "follow_plan": False}  # no lock set
    assert explorer.calls[1]["exclude"] == [(Step("directed_by"),)]
    picks = _picks(model)
    assert "Relations followed so far: none yet" in picks[0] and "Relations followed so far: written by" in picks[1]
    assert "the question asks for the writer" in picks[-1]  # the replanning planner is told why
    assert result["prediction"] == "Edward Knoblock" and result["path"] == ["written_by"]
    assert result["answers"] == ["Edward Knoblock"]
    assert result["supporting"] == [[["Kismet", "written_by", "Edward Knoblock"]]]
    assert result["rounds"] == 1 and result["reflections"][0]["path"] == ["directed_by"]
    assert result["plan"]["path"] == ["written_by"] and 0 < result["plan"]["confidence"] < 1
    # 2 planner picks (each with its PMI premise, asked once a process), the reflector's reason and verdict
    # (and the verdict's calibration), 2 planner picks again (their premises known)
    assert result["llm_calls"] == len(model.calls) == usage.total().calls == 9
    assert result["tokens"] == usage.total().prompt_tokens + usage.total().completion_tokens


def test_a_revised_path_stands_when_no_other_path_reaches_an_answer(kg: KnowledgeGraph) -> None:
    explorer = ExplorerDouble(paths=(DIRECTOR,))  # nothing else to find once the director path is excluded
    plan = ["directed by", END]
    revise = [{"reason": "not sure"}, "revise"]
    (result,), _, _ = _run("effiqa", kg, ["who directed [Kismet]"], [*plan, *revise, *plan], explorer)
    assert explorer.calls[1]["exclude"] == [(Step("directed_by"),)]
    assert result["prediction"] == "William Dieterle" and result["path"] == ["directed_by"]
    assert result["note"] == "revised, but no other path reached an answer" and result["rounds"] == 1


def test_the_planner_picks_from_the_steps_that_lead_on_and_a_confident_plan_is_followed(kg: KnowledgeGraph) -> None:
    explorer = ExplorerDouble()
    confident = [{"logprobs": {"directed by": 0.0, "written by": -9, "starred actors": -9}}, END]
    accept = [{"reason": "a director, as asked"}, "accept"]
    locked = EffiQASettings(plan_lock=0.5)
    (result,), model, _ = _run("effiqa", kg, ["who directed [Kismet]"], [*confident, *accept], explorer, locked)
    assert (result["prediction"], result["rounds"]) == ("William Dieterle", 0)
    picks = [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]
    first, second = (c.kwargs["choice"]["options"] for c in picks[:2])
    assert sorted(first) == ["directed by", "starred actors", "written by"]  # what leads on from Kismet
    assert sorted(second) == [END, "reverse of directed by"]  # from William Dieterle, or stop
    assert result["plan"]["confidence"] > 0.5 and explorer.calls[0]["follow_plan"]


def test_a_followed_plan_walks_only_its_own_path(kg: KnowledgeGraph) -> None:
    """With follow_plan, the plug-in explorer walks the planned path even where its own model prefers
    another; without it the plan earns only a bonus."""
    import torch

    from retinue.tools.kg_explorer import PathExplorer

    class Prefers:  # a plug-in model that always prefers "directed_by", then stopping
        def log_probs(self, question: Any, prefix: Any, allowed: Any) -> dict[Any, float]:
            if prefix:
                return {None: 0.0}
            return {s: (0.0 if s.relation == "directed_by" else -6.0) for s in allowed}

    explorer = PathExplorer(kg, Prefers())  # type: ignore[arg-type]
    explorer.question_vector = lambda question, mention=None: torch.zeros(1)  # type: ignore[method-assign]
    kismet = kg.find("Kismet")[0]
    bonus = explorer.explore("q", kismet, plan=[Step("written_by")])
    followed = explorer.explore("q", kismet, plan=[Step("written_by")], follow_plan=True)
    assert bonus.paths[0].steps == (Step("directed_by"),)
    assert [p.steps for p in followed.paths] == [(Step("written_by"),)]
    assert followed.paths[0].answers == ("Edward Knoblock",)


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


def test_tog_keeps_the_paths_the_model_scores_highest(kg: KnowledgeGraph) -> None:
    """ToG's beam: relation and entity probabilities multiply along a path, and the width best paths are
    kept, whatever order they were found in."""
    relations = {"logprobs": {"starred actors": -0.36, "directed by": -1.61, "written by": -2.30}}  # .7 .2 .1
    actors = {"logprobs": {"Joy Page": -0.1, "Ronald Colman": -3.0, "Marlene Dietrich": -3.0, "Edward Arnold": -3.0}}
    responses = [relations, actors, "yes", "Joy Page"]
    (result,), model, _ = _run("tog", kg, ["who starred in [Kismet]"], responses)
    assert result["prediction"] == "Joy Page" and result["path"] == ["starred_actors"]
    assert result["supporting"] == [[["Kismet", "starred_actors", "Joy Page"]]]
    reasoning = _picks(model)[2]
    # Joy Page (.7 x .86 = .6), then the director (.2 x 1: a single entity needs no call), then the writer
    # (.1), which beats every other actor (.7 x .05).
    lines = [line for line in reasoning.splitlines() if line.startswith("(Kismet")]
    assert lines == [
        "(Kismet, starred_actors, Joy Page)",
        "(Kismet, directed_by, William Dieterle)",
        "(Kismet, written_by, Edward Knoblock)",
    ]
    # relations, actors, enough (and its calibration), which answer; relations, actors and answer each
    # with their PMI premise
    assert result["llm_calls"] == len(model.calls) == 8


def test_tog_samples_the_entities_it_shows(kg: KnowledgeGraph) -> None:
    """More reached entities than `tog_candidates`: a seeded sample, not the first ones by name."""
    shown = set()
    for seed in range(6):
        responses = [{"pick": "starred actors"}, {"position": 1}, "no", {"position": 1}, "no", "no"]
        usage = UsageRecorder()
        model = ScriptedChatModel(responses=responses, callbacks=[usage])
        settings = EffiQASettings(tog_candidates=2, tog_width=1, tog_depth=1, seed=seed)
        context = EffiQAContext(
            llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0), kg=kg, settings=settings
        )
        graph = BUILDERS["tog"]().compile(checkpointer=InMemorySaver())
        graph.invoke(
            {"questions": ["who starred in [Kismet]"], "current": None, "results": []},
            config={"configurable": {"thread_id": "t"}},
            context=context,
        )
        picks = [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]
        entity_call = picks[1]
        shown.add(tuple(sorted(entity_call.kwargs["choice"]["options"])))
    assert all(len(s) == 2 for s in shown) and len(shown) > 1


def test_tog_takes_no_call_when_there_is_nothing_to_score(kg: KnowledgeGraph) -> None:
    responses = [{"pick": "directed by"}, "yes"]  # one director: no entity call, one end: no answer call
    (result,), model, _ = _run("tog", kg, ["who directed [Kismet]"], responses, settings=EffiQASettings(tog_width=1))
    assert result["prediction"] == "William Dieterle"
    assert len(model.calls) == 4  # relations (and its premise), enough (and its calibration)


def test_failed_decisions_fall_back_and_still_count(kg: KnowledgeGraph, tmp_path: Path) -> None:
    (result,), model, usage = _run("io", None, ["who directed [Kismet]"], ["not json"] * 3)
    assert result["prediction"] is None and result["note"] == "the model gave no valid answer"
    assert result["llm_calls"] == 3 == len(model.calls) and usage.total().fallbacks == 1
