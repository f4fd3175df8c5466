"""Baselines in the same harness: IO (the LLM answers alone) and ToG (the LLM prunes at every hop).

ToG (Think-on-Graph, Sun et al. 2024) keeps a beam of reasoning paths, each with a score. At each depth,
for each path end the LLM scores the relations that lead on (the `tog_width` most probable are kept),
then for each kept relation the entities it reaches (a seeded random sample of `tog_candidates` when
there are more; the `tog_width` most probable are kept); a path's score is the product of its relation
and entity probabilities, and the `tog_width` best paths form the next beam. The LLM is then asked
whether the paths suffice and, if they do, which end answers. Every scoring is an LLM call: that is the
cost EffiQA's plug-in model removes.
"""

import random
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from rdflib.term import Identifier

from retinue.agents.effiqa.state import (
    EffiQAContext,
    EffiQASettings,
    EffiQAState,
    QuestionWork,
    ask_model,
    current_work,
    finish,
    topic_node,
)
from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.llms.choice import Choice, ChoicePrompt
from retinue.prompts import content_free, load_prompts

PROMPTS = "retinue.agents.effiqa"
Triple = tuple[str, str, str]


@dataclass(frozen=True)
class ToGPath:
    """A ToG reasoning path: its triples, the steps that made them, the entity it ends at, its score."""

    triples: list[Triple]
    steps: list[str]
    end: Identifier
    visited: frozenset[Identifier]
    score: float = 1.0


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
    beam: list[ToGPath] = [ToGPath([], [], topic, frozenset([topic]))]
    for depth in range(1, ctx.settings.tog_depth + 1):
        longer: list[ToGPath] = []
        for path in beam:
            for step, relation_p in _score_relations(ctx, work, kg, path, width):
                for node, entity_p in _score_entities(ctx, work, kg, path, step, width):
                    longer.append(extended(kg, path, step, node, relation_p * entity_p))
        if not longer:
            break
        beam = sorted(longer, key=lambda p: -p.score)[:width]  # stable: equal scores keep the order found
        answer = _reason(ctx, work, kg, beam)
        if answer is not None or depth == ctx.settings.tog_depth:
            chosen = answer or kg.label(beam[0].end)
            supporting = [p for p in beam if kg.label(p.end) == chosen]
            work["supporting"] = [[list(t) for t in p.triples] for p in supporting][:3]
            return finish(work, chosen, supporting[0].steps)
    return finish(work, None, [], "ToG found no relation to follow")


def _top(choice: Choice, width: int) -> list[tuple[str, float]]:
    """The `width` most probable options of a choice, with their probabilities (a fallback: its default)."""
    if not choice.valid:
        return [(choice.value, 1.0)]
    ranked = sorted(choice.shown, key=lambda o: -choice.probabilities[o])
    return [(option, choice.probabilities[option]) for option in ranked[:width]]


def _score_relations(
    ctx: EffiQAContext, work: QuestionWork, kg: KnowledgeGraph, path: ToGPath, width: int
) -> list[tuple[Step, float]]:
    """Relation exploration: the `width` relations from the path's end the model finds most probable."""
    posed = relation_choice(kg, work["question"], path)
    if posed is None:
        return []
    prompt, by_words = posed
    choice = ctx.choose(prompt, default=prompt.options[0], role="tog_relations", charge_to=work)  # type: ignore[arg-type]
    return [(by_words[words], p) for words, p in _top(choice, width)]


def relation_choice(kg: KnowledgeGraph, question: str, path: ToGPath) -> tuple[ChoicePrompt, dict[str, Step]] | None:
    """The choice of a relation from the path's end (None where no relation leads on), and the step each
    option names: what ToG and its training examples pose."""
    available = kg.steps_from(path.end)
    if not available:
        return None
    by_words = {s.words: s for s in available}
    text = load_prompts(PROMPTS)["tog_relations"].format(
        entity=kg.label(path.end), question=question, paths=_describe(path.triples) or "none yet", options="{options}"
    )
    return ChoicePrompt([HumanMessage(text)], list(by_words), kind="text", stem="Relation:"), by_words


def _score_entities(
    ctx: EffiQAContext, work: QuestionWork, kg: KnowledgeGraph, path: ToGPath, step: Step, width: int
) -> list[tuple[Identifier, float]]:
    """Entity exploration: the `width` most probable of the entities shown (a single entity needs no call)."""
    prompt, by_label = entity_choice(ctx.settings, kg, work["question"], path, step)
    if prompt is None:
        return [(node, 1.0) for node in by_label.values()]
    choice = ctx.choose(prompt, default=prompt.options[0], role="tog_entities", charge_to=work)  # type: ignore[arg-type]
    return [(by_label[label], p) for label, p in _top(choice, width)]


def entity_choice(
    settings: EffiQASettings, kg: KnowledgeGraph, question: str, path: ToGPath, step: Step
) -> tuple[ChoicePrompt | None, dict[str, Identifier]]:
    """The entities `step` reaches from the path's end (no going back), a seeded sample of
    `tog_candidates` of them by label, and the choice among them (None for one label or none)."""
    reached = [node for node in kg.neighbours(path.end, step, limit=500) if node not in path.visited]
    draw = random.Random(f"{settings.seed}:{question}:{path.end}:{step.name}")
    shown = draw.sample(reached, k=min(len(reached), settings.tog_candidates))
    by_label: dict[str, Identifier] = {}
    for node in shown:
        by_label.setdefault(kg.label(node), node)
    if len(by_label) <= 1:
        return None, by_label
    text = load_prompts(PROMPTS)["tog_entities"].format(
        relation=step.words, entity=kg.label(path.end), question=question, options="{options}"
    )
    return ChoicePrompt([HumanMessage(text)], list(by_label), kind="text", stem="Entity:"), by_label


def extended(kg: KnowledgeGraph, path: ToGPath, step: Step, node: Identifier, score: float = 1.0) -> ToGPath:
    """`path` one `step` further, to `node`, its score multiplied by `score`."""
    head, tail = (node, path.end) if step.inverse else (path.end, node)
    return ToGPath(
        [*path.triples, (kg.label(head), step.relation, kg.label(tail))],
        [*path.steps, step.name],
        node,
        path.visited | {node},
        path.score * score,
    )


def _reason(ctx: EffiQAContext, work: QuestionWork, kg: KnowledgeGraph, beam: list[ToGPath]) -> str | None:
    """Whether the beam's paths suffice (a calibrated yes/no), and if so which end answers."""
    prompts = load_prompts(PROMPTS)
    paths = "\n".join(_describe(path.triples) for path in beam)
    enough = ChoicePrompt(
        [HumanMessage(prompts["tog_enough"].format(question=work["question"], paths=paths, options="{options}"))],
        ["yes", "no"],
        stem="Answer:",
        content_free=[HumanMessage(content_free(prompts["tog_enough"]))],
    )
    if ctx.choose(enough, default="no", role="tog_reason", charge_to=work).value != "yes":  # type: ignore[arg-type]
        return None
    ends = list(dict.fromkeys(kg.label(path.end) for path in beam))
    text = prompts["tog_answer"].format(question=work["question"], paths=paths, options="{options}")
    answer = ChoicePrompt([HumanMessage(text)], ends, kind="text", stem="Answer:")
    return ctx.choose(answer, default=ends[0], role="tog_reason", charge_to=work).value  # type: ignore[arg-type]


def _describe(chain: list[Triple]) -> str:
    return " -> ".join(f"({h}, {r}, {t})" for h, r, t in chain)
