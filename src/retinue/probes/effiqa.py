"""Probe cases for EffiQA's planner and reflector, from MetaQA 1-hop questions over its knowledge graph.

Questions come from the validation part of MetaQA dev's seeded split (seed 0), which the plug-in explorer
never trained on. Planner: the first step of the plan; the right answer is the question's gold relation,
among the steps that lead anywhere from its topic entity. Its twin is another question about the same
entity that asks for another relation. Reflector: a question with the path that answers it and its
answers (right: accept); its twin is the same question with another relation from the same entity and
what that reaches (right: revise).
"""

import random
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from retinue.agents.effiqa.planner import VERDICTS, AnswerCheck, check_answer, choose_step, reachable_steps
from retinue.envs.kgqa import metaqa_questions, split_dev
from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.errors import RetinueError
from retinue.llms.choice import Choice
from retinue.probes.core import ProbeCase, ProbePair
from retinue.runs.context import RunContext

SPLIT_SEED = 0
ANSWERS_SHOWN = 8


class _Question(NamedTuple):
    """A 1-hop question: its id, text, topic entity's name and gold step."""

    id: str
    text: str
    topic: str
    step: Step


def _questions(root: Path) -> list[_Question]:
    _, validation = split_dev(metaqa_questions(root, 1), SPLIT_SEED)
    return [
        _Question(q.id, q.text, q.topic, q.path[0])
        for q in validation
        if q.answerable and q.topic and q.path is not None and len(q.path) == 1
    ]


def _by_topic(questions: Sequence[_Question]) -> dict[str, dict[Step, _Question]]:
    found: dict[str, dict[Step, _Question]] = {}
    for question in questions:
        found.setdefault(question.topic, {}).setdefault(question.step, question)
    return found


def _planner_case(kg: KnowledgeGraph, name: str, question: _Question) -> ProbeCase:
    (topic, *_) = kg.find(question.topic)
    steps = reachable_steps(kg, topic, [])

    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        return choose_step(ctx, question.text, question.topic, [], "", steps, order=order)[1]

    options = tuple(s.words for s in steps)
    return ProbeCase(name, options, frozenset([question.step.words]), ask, evidence=question.text)


def planner_pairs(root: Path, kg: KnowledgeGraph, count: int, seed: int = 0) -> list[ProbePair]:
    """`count` planner pairs: two questions about one entity that ask for different relations."""
    topics = [(t, asked) for t, asked in _by_topic(_questions(root)).items() if len(asked) >= 2 and kg.find(t)]
    random.Random(seed).shuffle(topics)
    if len(topics) < count:
        raise RetinueError(f"only {len(topics)} MetaQA entities are asked about two relations; {count} wanted")
    pairs = []
    for number, (topic, asked) in enumerate(topics[:count]):
        first, second = list(asked.values())[:2]
        pairs.append(
            ProbePair(
                _planner_case(kg, f"planner-{number}-{topic}-{first.step.name}", first),
                _planner_case(kg, f"planner-{number}-{topic}-{second.step.name}", second),
            )
        )
    return pairs


def _reflector_case(kg: KnowledgeGraph, name: str, question: _Question, step: Step, right: str) -> ProbeCase:
    (topic, *_) = kg.find(question.topic)
    reached = sorted({kg.label(n) for n in kg.neighbours(topic, step, limit=200)})
    first = reached[0]
    head, tail = (first, question.topic) if step.inverse else (question.topic, first)
    check = AnswerCheck(question.text, question.topic, [step.name], reached, f"{head} {step.relation} {tail}")

    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        return check_answer(ctx, check, order=order)[2]

    evidence = f"{question.text} | {step.name}: {', '.join(reached[:ANSWERS_SHOWN])}"
    return ProbeCase(name, VERDICTS, frozenset([right]), ask, evidence=evidence)


def reflector_pairs(root: Path, kg: KnowledgeGraph, count: int, seed: int = 0) -> list[ProbePair]:
    """`count` reflector pairs: a question with its own path (accept) and with another relation (revise)."""
    questions = _questions(root)
    random.Random(seed).shuffle(questions)
    pairs: list[ProbePair] = []
    for question in questions:
        found = kg.find(question.topic)
        if not found:
            continue
        gold = question.step
        answers = {kg.label(n) for n in kg.neighbours(found[0], gold, limit=200)}
        others = [
            s
            for s in kg.steps_from(found[0])
            if s.relation != gold.relation
            and not answers & {kg.label(n) for n in kg.neighbours(found[0], s, limit=200)}
        ]
        if not answers or not others:
            continue
        wrong = random.Random(f"{seed}:{question.id}").choice(others)
        number = len(pairs)
        pairs.append(
            ProbePair(
                _reflector_case(kg, f"reflector-{number}-{question.id}-gold", question, gold, "accept"),
                _reflector_case(kg, f"reflector-{number}-{question.id}-{wrong.name}", question, wrong, "revise"),
            )
        )
        if len(pairs) == count:
            return pairs
    raise RetinueError(f"only {len(pairs)} reflector pairs could be made; {count} wanted")
