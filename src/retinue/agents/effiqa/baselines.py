"""Baselines in the same harness: IO (the LLM answers alone) and ToG (the LLM prunes at every hop).

ToG (Think-on-Graph, Sun et al. 2024) keeps a beam of reasoning paths. At each depth, for each path end
the LLM chooses up to `tog_width` relations, then for each chosen relation up to `tog_width` of the
entities it reaches; the best `tog_width` paths are kept and the LLM is asked whether they suffice to
answer. Every pruning decision is an LLM call: that is the cost EffiQA's plug-in model removes.
"""

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from rdflib.term import Identifier

from retinue.agents.effiqa.state import (
    EffiQAContext,
    EffiQAState,
    QuestionWork,
    ask_model,
    current_work,
    finish,
    topic_node,
)
from retinue.agents.prompts import load_prompts
from retinue.tools.knowledge_graph import KnowledgeGraph, Step

PROMPTS = "retinue.agents.effiqa"
Triple = tuple[str, str, str]


@dataclass(frozen=True)
class _Path:
    """A ToG reasoning path: its triples, the steps that made them, and the entity it ends at."""

    triples: list[Triple]
    steps: list[str]
    end: Identifier
    visited: frozenset[Identifier]


def answer_alone(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """IO: one call, the question in, a short answer out; no graph."""
    work = current_work(state)
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "maxLength": 80}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    text = load_prompts(PROMPTS)["io"].format(question=work["question"])
    decision = ask_model(runtime.context, work, "io", [HumanMessage(text)], schema, {"answer": ""})
    answer = str(decision.value["answer"]).strip() or None
    return finish(work, answer, [], None if decision.valid else "the model gave no valid answer")


def think_on_graph(state: EffiQAState, runtime: Runtime[EffiQAContext]) -> dict[str, Any]:
    """ToG for the question in hand, all depths in one node."""
    ctx = runtime.context
    kg = ctx.kg
    if kg is None:
        raise ValueError("ToG needs a knowledge graph in its context")
    work = current_work(state)
    width = ctx.settings.tog_width
    topic = topic_node(work)
    beam: list[_Path] = [_Path([], [], topic, frozenset([topic]))]  # type: ignore[arg-type]
    for depth in range(1, ctx.settings.tog_depth + 1):
        extended: list[_Path] = []
        for path in beam:
            for step in _choose_relations(ctx, work, kg, path.triples, path.end, width):
                for node in _choose_entities(ctx, work, kg, path.end, step, width, path.visited):
                    head, tail = (node, path.end) if step.inverse else (path.end, node)
                    triple = (kg.label(head), step.relation, kg.label(tail))
                    extended.append(
                        _Path([*path.triples, triple], [*path.steps, step.name], node, path.visited | {node})
                    )
        if not extended:
            break
        beam = extended[:width]
        answer = _reason(ctx, work, kg, beam)
        if answer is not None or depth == ctx.settings.tog_depth:
            chosen = answer or kg.label(beam[0].end)
            supporting = [p for p in beam if kg.label(p.end) == chosen]
            work["supporting"] = [[list(t) for t in p.triples] for p in supporting][:3]
            return finish(work, chosen, supporting[0].steps)
    return finish(work, None, [], "ToG found no relation to follow")


def _choose_relations(
    ctx: EffiQAContext, work: QuestionWork, kg: KnowledgeGraph, chain: list[Triple], entity: Identifier, width: int
) -> list[Step]:
    available = [s.name for s in kg.steps_from(entity)]
    if not available:
        return []
    schema = {
        "type": "object",
        "properties": {
            "relations": {
                "type": "array",
                "items": {"type": "string", "enum": available},
                "minItems": 1,
                "maxItems": width,
            }
        },
        "required": ["relations"],
        "additionalProperties": False,
    }
    text = load_prompts(PROMPTS)["tog_relations"].format(
        entity=kg.label(entity),
        width=width,
        question=work["question"],
        paths=_describe(chain) or "none yet",
        relations=", ".join(available),
    )
    decision = ask_model(ctx, work, "tog_relations", [HumanMessage(text)], schema, {"relations": available[:1]})
    return [Step.parse(name) for name in dict.fromkeys(decision.value["relations"])][:width]


def _choose_entities(
    ctx: EffiQAContext,
    work: QuestionWork,
    kg: KnowledgeGraph,
    entity: Identifier,
    step: Step,
    width: int,
    visited: frozenset[Identifier],
) -> list[Identifier]:
    reached = [node for node in kg.neighbours(entity, step, limit=500) if node not in visited]  # no going back
    # ToG samples when a relation reaches too many entities; we keep a deterministic, name-ordered sample.
    shown = sorted(reached, key=lambda n: (kg.label(n), str(n)))[: ctx.settings.tog_candidates]
    if len(shown) <= width:
        return shown  # nothing to prune: no call
    labels = list(dict.fromkeys(kg.label(n) for n in shown))
    schema = {
        "type": "object",
        "properties": {
            "entities": {"type": "array", "items": {"type": "string", "enum": labels}, "minItems": 1, "maxItems": width}
        },
        "required": ["entities"],
        "additionalProperties": False,
    }
    text = load_prompts(PROMPTS)["tog_entities"].format(
        relation=step.name, entity=kg.label(entity), width=width, question=work["question"], entities=", ".join(labels)
    )
    decision = ask_model(ctx, work, "tog_entities", [HumanMessage(text)], schema, {"entities": labels[:width]})
    chosen = list(dict.fromkeys(decision.value["entities"]))[:width]
    return [next(n for n in shown if kg.label(n) == label) for label in chosen]


def _reason(ctx: EffiQAContext, work: QuestionWork, kg: KnowledgeGraph, beam: list["_Path"]) -> str | None:
    ends = list(dict.fromkeys(kg.label(path.end) for path in beam))
    schema = {
        "type": "object",
        "properties": {"enough": {"type": "boolean"}, "answer": {"type": "string", "enum": ends}},
        "required": ["enough", "answer"],
        "additionalProperties": False,
    }
    text = load_prompts(PROMPTS)["tog_reason"].format(
        question=work["question"], paths="\n".join(_describe(path.triples) for path in beam)
    )
    decision = ask_model(ctx, work, "tog_reason", [HumanMessage(text)], schema, {"enough": False, "answer": ends[0]})
    return str(decision.value["answer"]) if decision.value["enough"] else None


def _describe(chain: list[Triple]) -> str:
    return " -> ".join(f"({h}, {r}, {t})" for h, r, t in chain)
