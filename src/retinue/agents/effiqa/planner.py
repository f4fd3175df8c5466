"""EffiQA's two LLM roles as choices, the same for the team's nodes and for their probes.

The planner builds a relation path one step at a time: at each step it picks one of the steps that lead
anywhere from where the path has got to in the graph (as words: "directed by", "reverse of directed
by"), or, after the first, ending the path. The plan's confidence is the product of its picks'
probabilities. The reflector first says in a sentence whether the path answers the question, then picks
accept or revise with that in view (a label choice, calibrated).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from rdflib.term import Identifier

from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.llms.choice import Choice, ChoicePrompt
from retinue.prompts import content_free, load_prompts
from retinue.runs.context import RunContext

PROMPTS = "retinue.agents.effiqa"
END = "end the path here"
VERDICTS = ("accept", "revise")
FRONTIER_SAMPLE = 50  # entities of a planned path's frontier looked at for the steps that lead on
NO_REASON = "no reason given"


@dataclass(frozen=True)
class Plan:
    """A relation path from the topic, how probable the planner found it, and whether every pick was the
    model's (not a fallback)."""

    steps: tuple[Step, ...]
    confidence: float
    valid: bool


def reachable_steps(kg: KnowledgeGraph, topic: Identifier, path: Sequence[Step]) -> list[Step]:
    """The steps that lead on from where `path` gets to from `topic` (looking at a sample of its frontier)."""
    frontier = [topic]
    for step in path:
        reached: dict[Identifier, None] = {}
        for node in frontier[:FRONTIER_SAMPLE]:
            reached.update(dict.fromkeys(n for n in kg.neighbours(node, step, limit=FRONTIER_SAMPLE) if n != topic))
        frontier = list(reached)
    found: set[Step] = set()
    for node in frontier[:FRONTIER_SAMPLE]:
        found.update(kg.steps_from(node))
    return sorted(found)


def step_prompt(question: str, topic: str, path: Sequence[Step], feedback: str, steps: Sequence[Step]) -> ChoicePrompt:
    """The planner's next pick: one of `steps` (as words), or, once the path has a step, its end."""
    text = load_prompts(PROMPTS)["planner"].format(
        question=question,
        topic=topic,
        path=", then ".join(s.words for s in path) or "none yet",
        feedback=feedback,
        options="{options}",
    )
    options = [s.words for s in steps] + ([END] if path else [])
    return ChoicePrompt(messages=[HumanMessage(text)], options=options, kind="text", stem="Next relation:")


def choose_step(
    ctx: RunContext,
    question: str,
    topic: str,
    path: Sequence[Step],
    feedback: str,
    steps: Sequence[Step],
    order: Sequence[str] | None = None,
    charge_to: dict[str, object] | None = None,
) -> tuple[Step | None, Choice]:
    """The planner's next step (None: the path ends here) and the choice that picked it."""
    prompt = step_prompt(question, topic, path, feedback, steps)
    choice = ctx.choose(
        prompt, default=END if path else prompt.options[0], role="planner", order=order, charge_to=charge_to
    )
    by_words = {s.words: s for s in steps}
    return by_words.get(choice.value), choice


def plan_path(
    ctx: RunContext,
    kg: KnowledgeGraph,
    question: str,
    topic: tuple[str, Identifier],
    feedback: str,
    max_hops: int,
    charge_to: dict[str, object] | None = None,
) -> Plan:
    """A relation path from `topic` (label, node), a step at a time, at most `max_hops` steps."""
    path: list[Step] = []
    confidence, valid = 1.0, True
    while len(path) < max_hops:
        steps = reachable_steps(kg, topic[1], path)
        if not steps:
            break
        step, choice = choose_step(ctx, question, topic[0], path, feedback, steps, charge_to=charge_to)
        confidence *= choice.confidence
        valid = valid and choice.valid
        if step is None:
            break
        path.append(step)
    return Plan(tuple(path), confidence if path else 0.0, valid)


def choose_topic(
    ctx: RunContext, question: str, labels: Sequence[str], charge_to: dict[str, object] | None = None
) -> str:
    """The entity the question starts from, when it names more than one (one needs no call)."""
    text = load_prompts(PROMPTS)["planner_topic"].format(question=question, options="{options}")
    prompt = ChoicePrompt(messages=[HumanMessage(text)], options=list(labels), kind="text", stem="Starting from:")
    return ctx.choose(prompt, default=labels[0], role="planner", charge_to=charge_to).value


@dataclass(frozen=True)
class AnswerCheck:
    """What the reflector looks at: the question and the best path's findings."""

    question: str
    topic: str
    path: Sequence[str]  # step names
    answers: Sequence[str]
    supporting: str


def answer_check(question: str, topic: str, found: Mapping[str, Any]) -> AnswerCheck:
    """What the reflector is shown of a path as the explorer reports it (`FoundPath.to_dict()`): its
    answers and the first answer's supporting triples."""
    chains = found["supporting"]
    return AnswerCheck(
        question=question,
        topic=topic,
        path=list(found["path"]),
        answers=list(found["answers"]),
        supporting="; ".join(" ".join(t) for t in (chains[0] if chains else [])),
    )


def _situation(case: AnswerCheck) -> str:
    return load_prompts(PROMPTS)["reflector"].format(
        question=case.question,
        topic=case.topic,
        path=", then ".join(Step.parse(name).words for name in case.path),
        count=len(case.answers),
        answers=", ".join(case.answers[:8]),
        supporting=case.supporting,
    )


def verdict_prompt(case: AnswerCheck, reason: str) -> ChoicePrompt:
    """The reflector's pick, once it has said why."""
    prompts = load_prompts(PROMPTS)
    closing = prompts["reflector_verdict"]
    template = f"{prompts['reflector']}\n{closing}"
    return ChoicePrompt(
        messages=[HumanMessage(f"{_situation(case)}\n{closing.format(reason=reason, options='{options}')}")],
        options=list(VERDICTS),
        stem="Verdict:",
        content_free=[HumanMessage(content_free(template))],
        meanings={"accept": "give these answers", "revise": "plan another path"},
    )


def write_reason(ctx: RunContext, case: AnswerCheck, charge_to: dict[str, object] | None = None) -> str:
    """The reflector's sentence on whether the path answers the question, written before its verdict."""
    schema = {
        "type": "object",
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 160}},
        "required": ["reason"],
        "additionalProperties": False,
    }
    text = f"{_situation(case)}\n{load_prompts(PROMPTS)['reflector_reason']}"
    written = ctx.decide(
        [HumanMessage(text)], schema, default={"reason": NO_REASON}, role="reflector", charge_to=charge_to
    )
    return str(written.value["reason"]).strip() or NO_REASON


def check_answer(
    ctx: RunContext,
    case: AnswerCheck,
    order: Sequence[str] | None = None,
    charge_to: dict[str, object] | None = None,
) -> tuple[str, str, Choice]:
    """The reflector's verdict (accept or revise), its reason, and the choice that made the verdict."""
    reason = write_reason(ctx, case, charge_to)
    choice = ctx.choose(
        verdict_prompt(case, reason), default="accept", role="reflector", order=order, charge_to=charge_to
    )
    return choice.value, reason, choice
