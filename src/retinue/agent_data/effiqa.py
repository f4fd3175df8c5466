"""EffiQA's planner and reflector examples, from the train part of MetaQA dev (the seeded split the plug-in
explorer trains on; its validation part is what `eval effiqa` and the probes ask).

Planner: the next relation of a question's gold path. ToG (`tog_examples`): its relation and entity picks
along the gold path.
The planner builds a path a step at a time from the steps that lead on from where the path has got to
(`reachable_steps`); each step of the gold path is one example, and after a gold path shorter than the
planner's `max_hops`, ending the path is one more. A question naming several entities, or whose gold
step is not among the steps the planner would be shown, gives no example at that point; nor does a pick
with one option, which the choice seam makes without asking the model.
"""

import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rdflib.term import Identifier

from retinue.agent_data.examples import Example
from retinue.agents.effiqa.baselines import ToGPath, entity_choice, extended, relation_choice
from retinue.agents.effiqa.planner import END, AnswerCheck, answer_check, reachable_steps, step_prompt, verdict_prompt
from retinue.agents.effiqa.state import EffiQASettings
from retinue.envs.kgqa import KGQuestion, metaqa_questions, split_dev
from retinue.envs.knowledge_graph import KnowledgeGraph, Step, normalise

ROLE = "planner"
REFLECTOR = "reflector"
TOG_RELATIONS, TOG_ENTITIES = "tog_relations", "tog_entities"
FRONTIER = 200  # entities followed at most per hop when checking that a path still reaches an answer


def train_questions(root: Path, hops: Sequence[int], split_seed: int, limit: int | None) -> list[KGQuestion]:
    """The train part of MetaQA dev's seeded split for each hop count; `limit` a hop, drawn by the seed."""
    chosen: list[KGQuestion] = []
    for count in hops:
        train, _ = split_dev(metaqa_questions(root, count), split_seed)
        if limit is not None and limit < len(train):
            train = [train[i] for i in sorted(random.Random(split_seed).sample(range(len(train)), limit))]
        chosen += train
    return chosen


def _provenance(question: KGQuestion, split_seed: int, **where: Any) -> dict[str, Any]:
    """Where an example comes from: its train question (and its gold path), and `where` on that path."""
    gold = question.path or ()
    return {
        "question": question.id,
        "hops": len(gold),
        "split": "train",
        "split_seed": split_seed,
        **where,
        "gold_path": [s.name for s in gold],
    }


def _single_topic(kg: KnowledgeGraph, question: KGQuestion) -> tuple[Identifier, str] | None:
    """The entity the question names and its label; None for no entity, or for several (the planner's choice
    of topic comes first there, and is not labelled here)."""
    nodes = [node for _, found in kg.mentions(question.text) for node in found]
    labels = list(dict.fromkeys(kg.label(node) for node in nodes))
    return (nodes[0], labels[0]) if len(labels) == 1 else None


def planner_examples(
    kg: KnowledgeGraph,
    questions: Sequence[KGQuestion],
    *,
    split_seed: int = 0,
    seed: int = 0,
    max_hops: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """The planner's picks along each question's gold path, posed as the team poses them on a first round
    (no feedback)."""
    max_hops = max_hops or EffiQASettings().plan_hops
    for done, question in enumerate(questions, 1):
        yield from _question(kg, question, split_seed, seed, max_hops)
        if progress is not None and (done % 100 == 0 or done == len(questions)):
            progress(done, len(questions))


def _question(kg: KnowledgeGraph, question: KGQuestion, split_seed: int, seed: int, max_hops: int) -> Iterator[Example]:
    named = _single_topic(kg, question)
    if question.path is None or named is None:
        return
    topic, label = named
    path: list[Any] = []
    for position in range(max_hops):
        steps = reachable_steps(kg, topic, path)
        if not steps:
            return
        gold = question.path[position] if position < len(question.path) else None
        if gold is not None and gold not in steps:
            return
        prompt = step_prompt(question.text, label, path, "", steps)
        target = gold.words if gold is not None else END
        provenance = _provenance(question, split_seed, position=position)
        if len(prompt.options) > 1:  # with one option the seam takes it without asking the model
            yield Example.of_choice(ROLE, prompt, target, provenance, seed)
        if gold is None:
            return
        path.append(gold)


def reflector_examples(
    kg: KnowledgeGraph,
    questions: Sequence[KGQuestion],
    reason: Callable[[AnswerCheck], str],
    *,
    split_seed: int = 0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """The reflector's verdict on two paths a question: its gold path (accept) and a wrong one (revise),
    each with the answers and supporting triples the explorer would report for it. A wrong path is, drawn
    by the seed, the gold path cut short (the explorer's commonest slip) or with another last relation,
    and reaches none of the gold path's answers. `reason` writes the sentence the reflector writes before
    its verdict at run time (the model's own, so training sees what run time sees)."""
    for done, question in enumerate(questions, 1):
        yield from _reflections(kg, question, reason, split_seed, seed)
        if progress is not None and (done % 20 == 0 or done == len(questions)):
            progress(done, len(questions))


def _reflections(
    kg: KnowledgeGraph, question: KGQuestion, reason: Callable[[AnswerCheck], str], split_seed: int, seed: int
) -> Iterator[Example]:
    from retinue.tools.kg_explorer import follow_path

    named = _single_topic(kg, question)
    if question.path is None or named is None:
        return
    (topic, label), gold = named, tuple(question.path)
    right = follow_path(kg, topic, gold)
    if not right.answers:
        return
    wrong_paths = [gold[:-1]] if len(gold) > 1 else []
    wrong_paths += [(*gold[:-1], step) for step in reachable_steps(kg, topic, gold[:-1]) if step != gold[-1]]
    found = [follow_path(kg, topic, path) for path in wrong_paths]
    wrong = [f for f in found if f.answers and not set(f.answers) & set(right.answers)]
    if not wrong:
        return
    draw = random.Random(f"{seed}:{question.id}")
    shortened = [f for f in wrong if len(f.steps) < len(gold)]
    picked = draw.choice(shortened if shortened and draw.random() < 0.5 else wrong)
    for path, target in ((right, "accept"), (picked, "revise")):
        case = answer_check(question.text, label, path.to_dict())
        provenance = _provenance(question, split_seed, path=case.path) | {
            "kind": "gold" if target == "accept" else "wrong"
        }
        yield Example.of_choice(REFLECTOR, verdict_prompt(case, reason(case)), target, provenance, seed)


def tog_examples(
    kg: KnowledgeGraph,
    questions: Sequence[KGQuestion],
    *,
    split_seed: int = 0,
    seed: int = 0,
    settings: EffiQASettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """ToG's picks along each question's gold path, posed as ToG poses them: at each hop the gold relation
    among those leading on from the path's end (role `tog_relations`), then, among the entities ToG shows
    for it (its seeded sample), the first from which the rest of the gold path still reaches a gold answer
    (`tog_entities`, only where some entity shown does not: otherwise any pick is right); the path goes
    on through that entity. A question whose shown entities reach no answer stops there."""
    settings = settings or EffiQASettings()
    for done, question in enumerate(questions, 1):
        yield from _tog_question(kg, question, split_seed, seed, settings)
        if progress is not None and (done % 100 == 0 or done == len(questions)):
            progress(done, len(questions))


def _tog_question(
    kg: KnowledgeGraph, question: KGQuestion, split_seed: int, seed: int, settings: EffiQASettings
) -> Iterator[Example]:
    named = _single_topic(kg, question)
    if question.path is None or named is None:
        return
    topic, _ = named
    gold = question.path
    answers = {normalise(a) for a in question.answers}
    path = ToGPath([], [], topic, frozenset([topic]))
    for position, step in enumerate(gold):
        provenance = _provenance(question, split_seed, position=position)
        posed = relation_choice(kg, question.text, path)
        if posed is None or step.words not in posed[1]:
            return
        if len(posed[0].options) > 1:  # with one option the seam takes it without asking the model
            yield Example.of_choice(TOG_RELATIONS, posed[0], step.words, provenance, seed)
        prompt, by_label = entity_choice(settings, kg, question.text, path, step)
        leading = [label for label, node in by_label.items() if _reaches(kg, node, gold[position + 1 :], answers)]
        if not leading:
            return
        if prompt is not None and len(leading) < len(by_label):  # where every entity shown leads on, any is right
            yield Example.of_choice(TOG_ENTITIES, prompt, leading[0], provenance, seed)
        path = extended(kg, path, step, by_label[leading[0]])


def _reaches(kg: KnowledgeGraph, node: Identifier, rest: Sequence[Step], answers: set[str]) -> bool:
    """Whether following `rest` from `node` reaches an entity labelled as one of `answers` (normalised)."""
    frontier = [node]
    for step in rest:
        frontier = list(dict.fromkeys(n for f in frontier for n in kg.neighbours(f, step, limit=FRONTIER)))[:FRONTIER]
    return any(normalise(kg.label(n)) in answers for n in frontier)
