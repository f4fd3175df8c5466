"""EffiQA's agents: link the question to the graph, plan (LLM), explore (plug-in model), reflect (LLM).

The LLM plans (a choice per planned step) and checks what exploration found (a sentence, then a choice).
The costly part, walking the graph and pruning relations and entities, is the plug-in model's. A rejected
path is excluded and the planner is told why; after `max_rounds` the best path found is answered without
asking again. A revise is a request to look elsewhere, not a veto: when the later rounds find no other
path, the first revised path's answer stands (its note says so).
"""

import time
from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime

from retinue.agents.effiqa.planner import answer_check, check_answer, choose_topic, plan_path
from retinue.agents.effiqa.state import (
    MAX_ANSWERS,
    EffiQAContext,
    EffiQAState,
    QuestionWork,
    current_work,
    finish,
    topic_node,
)
from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.prompts import load_prompts
from retinue.runs.context import report_progress
from retinue.tools.kg_explorer import PathExplorer

PROMPTS = "retinue.agents.effiqa"


def link_question(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """Start the next question: find the entities it names. A question naming none is answered "no answer"."""
    ctx = runtime.context
    index = len(state["results"])
    report_progress(runtime.stream_writer, "questions", index + 1, len(state["questions"]))
    work = QuestionWork(
        index=index,
        question=state["questions"][index],
        llm_calls=0,
        tokens=0,
        started=time.time(),
        round=0,
        rejected=[],
        reflections=[],
        paths=[],
        topics=[],
        topic=None,
        mention=None,
        plan=None,
    )
    if ctx.kg is None:  # io: the model answers alone
        return {"current": work}
    mentions = ctx.kg.mentions(work["question"])
    if not mentions:
        return finish(work, None, [], "no recognisable entity in the question")
    topics = [[ctx.kg.label(node), node.n3()] for _, nodes in mentions for node in nodes][: ctx.settings.max_topics]
    if not topics:
        return finish(work, None, [], f"{mentions[0][0]!r} is not an entity of the knowledge graph")
    work |= {"mention": mentions[0][0], "topics": topics, "topic": topics[0]}
    return {"current": work}


def after_link(first_node: str):  # type: ignore[no-untyped-def]
    """Route from linking: on to the method's first node, or to the next question."""

    def route(state: EffiQAState) -> str:
        if state["current"] is not None:
            return first_node
        return "link_question" if len(state["results"]) < len(state["questions"]) else END

    return route


def next_question(state: EffiQAState) -> str:
    return "link_question" if len(state["results"]) < len(state["questions"]) else END


def plan(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """The planner: the topic entity (picked when the question names several), then a relation path
    picked a step at a time from the steps that lead on in the graph."""
    ctx = runtime.context
    work = current_work(state)
    kg = _kg(ctx)
    labels = list(dict.fromkeys(label for label, _ in work["topics"]))
    label = choose_topic(ctx, work["question"], labels, charge_to=work) if len(labels) > 1 else labels[0]  # type: ignore[arg-type]
    work["topic"] = next(t for t in work["topics"] if t[0] == label)
    feedback = ""
    if work["reflections"]:
        feedback = load_prompts(PROMPTS)["planner_feedback"].format(
            reflections="; ".join(f"{' / '.join(r['path']) or 'no path'}: {r['reason']}" for r in work["reflections"])
        )
    planned = plan_path(
        ctx,
        kg,
        work["question"],
        (label, topic_node(work)),
        feedback,
        ctx.settings.plan_hops,
        charge_to=work,  # type: ignore[arg-type]
    )
    work["plan"] = {
        "topic": label,
        "path": [s.name for s in planned.steps],
        "confidence": round(planned.confidence, 4),
        "valid": planned.valid,
    }
    return {"current": work}


def explore(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """The explorer: the plug-in model's beam search from the planned topic. A plan the planner found
    probable enough (`plan_lock`, when set) is followed exactly; any other earns its steps a bonus."""
    ctx = runtime.context
    work = current_work(state)
    explorer = _explorer(ctx)
    planned, lock = work.get("plan") or {}, ctx.settings.plan_lock
    found = explorer.explore(
        work["question"],
        topic_node(work),
        work.get("mention"),
        plan=[Step.parse(name) for name in planned.get("path", [])],
        exclude=[tuple(Step.parse(n) for n in path) for path in work["rejected"]],
        follow_plan=lock is not None and float(planned.get("confidence", 0.0)) >= lock,
    )
    work["paths"] = [p.to_dict() for p in found.paths[:3]]
    work["note"] = found.stopped
    return {"current": work}


def reflect(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """The reflector: accept the best path's answers, or reject the path and send the planner back."""
    ctx = runtime.context
    work = current_work(state)
    last_round = work["round"] + 1 >= ctx.settings.max_rounds
    best = work["paths"][0] if work["paths"] else None
    if best is None:
        if last_round and work.get("first_revised"):
            kept = work["first_revised"]
            return _accept(work | {"note": "revised, but no other path reached an answer"}, kept)  # type: ignore[arg-type]
        if last_round:
            return finish(work, None, [], "exploration reached no answer")
        work["reflections"] = [*work["reflections"], {"path": [], "verdict": "revise", "reason": "no answers found"}]
        work["round"] += 1
        return {"current": work}
    if last_round:
        return _accept(work, best)
    case = answer_check(work["question"], (work.get("topic") or ["?"])[0], best)
    verdict, reason, _ = check_answer(ctx, case, charge_to=work)  # type: ignore[arg-type]
    if verdict == "accept":
        return _accept(work, best)
    work["reflections"] = [*work["reflections"], {"path": best["path"], "verdict": "revise", "reason": reason[:200]}]
    work["rejected"] = [*work["rejected"], best["path"]]
    work["first_revised"] = work.get("first_revised") or best
    work["round"] += 1
    return {"current": work}


def after_reflect(state: EffiQAState) -> str:
    if state["current"] is None:
        return next_question(state)
    return "plan"


def answer_with_plugin(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """Plug-in only: explore without a plan and answer the best path, no LLM at all."""
    work = current_work(state)
    found = _explorer(runtime.context).explore(work["question"], topic_node(work), work.get("mention"))
    if not found.paths:
        return finish(work, None, [], found.stopped or "exploration reached no answer")  # type: ignore[arg-type]
    return _accept(work | {"note": found.stopped}, found.paths[0].to_dict())  # type: ignore[arg-type]


def _accept(work: QuestionWork, best: dict[str, Any]) -> dict[str, Any]:
    work["supporting"] = best["supporting"][:3]
    work["answers"] = best["answers"][:MAX_ANSWERS]
    return finish(work, best["answers"][0], best["path"], work.get("note"))  # type: ignore[arg-type]


def _kg(ctx: EffiQAContext) -> KnowledgeGraph:
    if ctx.kg is None:
        raise ValueError("this method needs a knowledge graph in its context")
    return ctx.kg


def _explorer(ctx: EffiQAContext) -> PathExplorer:
    if ctx.explorer is None:
        raise ValueError("this method needs the plug-in explorer in its context")
    return ctx.explorer
