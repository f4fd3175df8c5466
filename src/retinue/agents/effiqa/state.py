"""State and context of the EffiQA team and its baselines.

The graph answers a list of questions one at a time. `current` is the working state of the question in
hand (its topic candidates, plan, exploration, reflections and costs); `results` grows by one record per
answered question, so a stopped evaluation resumes at the question (and the node) where it stopped.
"""

import operator
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict, cast

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field
from rdflib.term import Identifier
from rdflib.util import from_n3

from retinue.envs.knowledge_graph import KnowledgeGraph
from retinue.llms.structured import Decision
from retinue.runs.context import RunContext
from retinue.tools.kg_explorer import PathExplorer

METHODS = ("effiqa", "tog", "io", "plugin")
MAX_ANSWERS = 20


class QuestionWork(TypedDict, total=False):
    """The question in hand. Costs are counted here as the nodes spend them."""

    index: int
    question: str
    mention: str | None
    topics: list[list[str]]  # [label, uri] of each candidate topic entity
    topic: list[str] | None
    plan: dict[str, Any] | None
    paths: list[dict[str, Any]]
    rejected: list[list[str]]
    first_revised: dict[str, Any] | None  # the best path of the first revised round, kept as a fallback
    reflections: list[dict[str, Any]]
    round: int
    answer: str | None
    supporting: list[list[list[str]]]
    answers: list[str]
    note: str | None
    llm_calls: int
    tokens: int
    started: float


class QuestionResult(TypedDict):
    """One answered question, as predictions.jsonl records it."""

    index: int
    question: str
    prediction: str | None
    answers: list[str]  # every answer the accepted path reached (at most MAX_ANSWERS); prediction is the first
    supporting: list[list[list[str]]]
    path: list[str]
    note: str | None
    llm_calls: int
    tokens: int
    seconds: float
    rounds: int
    plan: dict[str, Any] | None
    reflections: list[dict[str, Any]]


class EffiQAState(TypedDict):
    questions: list[str]
    current: QuestionWork | None
    results: Annotated[list[QuestionResult], operator.add]


class EffiQASettings(BaseModel):
    """The team's own settings (the explorer's are `ExplorerConfig`)."""

    max_rounds: int = Field(2, ge=1, description="Plan-explore-reflect rounds per question at most.")
    max_topics: int = Field(8, ge=1, description="Candidate topic entities offered to the planner.")
    plan_hops: int = Field(3, ge=1, le=3, description="Steps the planner plans at most.")
    plan_lock: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A plan at least this probable is followed exactly; None: every plan only earns a bonus. "
        "Set it only for a planner whose probe shows calibrated confidence.",
    )
    tog_width: int = Field(3, ge=1, description="ToG: beam width (relations per entity, entities per relation).")
    tog_depth: int = Field(3, ge=1, description="ToG: hops at most.")
    tog_candidates: int = Field(20, ge=1, description="ToG: tail entities sampled and shown to the model per relation.")
    seed: int = Field(0, description="ToG: seed of the entity samples.")


@dataclass(frozen=True)
class EffiQAContext(RunContext):
    """The run context plus the graph, the plug-in explorer (None for io/tog) and the settings."""

    kg: KnowledgeGraph | None = None
    explorer: PathExplorer | None = None
    settings: EffiQASettings = field(default_factory=EffiQASettings)


def ask_model(
    ctx: EffiQAContext, work: QuestionWork, role: str, messages: list[BaseMessage], schema: Any, default: Any
) -> Decision[Any]:
    """A schema-constrained decision whose calls and tokens are charged to the question in hand."""
    return ctx.decide(messages, schema, default=default, role=role, charge_to=work)  # type: ignore[arg-type]


def finish(work: QuestionWork, answer: str | None, path: list[str], note: str | None = None) -> dict[str, Any]:
    """The state update that records the question in hand and clears it."""
    result = QuestionResult(
        index=work["index"],
        question=work["question"],
        prediction=answer,
        answers=work.get("answers") or ([answer] if answer else []),
        supporting=work.get("supporting", []),
        path=path,
        note=note,
        llm_calls=work.get("llm_calls", 0),
        tokens=work.get("tokens", 0),
        seconds=round(time.time() - work["started"], 3),
        rounds=work.get("round", 0),
        plan=work.get("plan"),
        reflections=work.get("reflections", []),
    )
    return {"current": None, "results": [result]}


def current_work(state: EffiQAState) -> QuestionWork:
    """A copy of the question in hand, for a node to update and return."""
    return cast(QuestionWork, dict(state["current"] or {}))


def topic_node(work: QuestionWork) -> Identifier:
    """The chosen topic entity as an rdflib term (state keeps its N3 text, which checkpoints can hold)."""
    topic = work.get("topic")
    if topic is None:
        raise ValueError("no topic entity was linked for this question")
    return cast(Identifier, from_n3(topic[1]))
