"""Graph exploration guided by the plug-in model: a beam search over relation paths from a topic entity.

At each hop every path in the beam is extended by the steps that lead anywhere from its frontier; the
plug-in model scores them (log-probability given the question and the path so far), steps below
`min_step_prob` are pruned, a plan adds a bonus to the steps it proposed (or, followed, allows only its
own steps and ends where it ends), and the `beam_width` best paths are expanded through the graph.
Stopping is scored like a step, so finished paths of different lengths compete. The frontier of each
path is capped (`max_nodes`), and so is the time per question.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, Field
from rdflib.term import Identifier

from retinue.envs.knowledge_graph import KnowledgeGraph, Step
from retinue.models.kg_explorer import ExplorerModel, embed_texts, masked_question


class ExplorerConfig(BaseModel):
    """How widely the plug-in explorer searches."""

    beam_width: int = Field(3, ge=1, description="Relation paths kept after each hop.")
    min_step_prob: float = Field(0.01, ge=0, le=1, description="Steps the model scores below this are pruned.")
    max_hops: int = Field(3, ge=1, le=3, description="Longest relation path tried.")
    max_nodes: int = Field(5000, ge=1, description="Entities kept on one path's frontier (the rest are dropped).")
    max_seconds: float = Field(20.0, gt=0, description="Time allowed per question before the search stops.")
    plan_bonus: float = Field(1.0, ge=0, description="Added to the log-probability of a step the plan proposed.")
    max_supporting: int = Field(5, ge=0, description="Supporting triple chains kept per answer path.")


@dataclass
class _Partial:
    steps: tuple[Step, ...]
    score: float
    frontier: list[Identifier]
    parents: list[dict[Identifier, Identifier]] = field(default_factory=list)


@dataclass(frozen=True)
class FoundPath:
    """A finished relation path: its score, the entities it reaches and triples that support them."""

    steps: tuple[Step, ...]
    score: float
    answers: tuple[str, ...]
    supporting: tuple[tuple[tuple[str, str, str], ...], ...]
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": [s.name for s in self.steps],
            "score": round(self.score, 4),
            "answers": list(self.answers),
            "supporting": [[list(t) for t in chain] for chain in self.supporting],
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Exploration:
    paths: tuple[FoundPath, ...]
    explored_nodes: int
    seconds: float
    stopped: str | None  # why the search stopped early, if it did


class PathExplorer:
    """The explorer tool: a knowledge graph and the trained plug-in model that prunes its search."""

    def __init__(self, kg: KnowledgeGraph, model: ExplorerModel, config: ExplorerConfig | None = None) -> None:
        self.kg = kg
        self.model = model
        self.config = config or ExplorerConfig()

    def question_vector(self, question: str, mention: str | None = None) -> torch.Tensor:
        return embed_texts([masked_question(question, mention)])[0]

    def explore(
        self,
        question: str,
        topic: Identifier,
        mention: str | None = None,
        plan: Sequence[Step] = (),
        exclude: Sequence[tuple[Step, ...]] = (),
        follow_plan: bool = False,
    ) -> Exploration:
        """Paths from `topic` that fit `question`, best first. `plan` earns its steps a bonus, or, with
        `follow_plan`, is the only path tried; paths in `exclude` (rejected earlier) are skipped."""
        config = self.config
        started = time.perf_counter()
        vector = self.question_vector(question, mention)
        following = follow_plan and bool(plan)
        beam = [_Partial((), 0.0, [topic])]
        finished: list[tuple[_Partial, bool]] = []
        explored, stopped = 1, None
        for depth in range(config.max_hops + 1):
            candidates: list[tuple[float, _Partial, Step | None]] = []
            for partial in beam:
                allowed = self._steps_from(partial.frontier) if depth < config.max_hops else []
                if following:
                    allowed = [s for s in allowed if depth < len(plan) and s == plan[depth]]
                scores = self.model.log_probs(vector, partial.steps, allowed) if allowed else {None: 0.0}
                if following and depth < len(plan):
                    scores.pop(None, None)  # a followed plan does not end before its last step
                for step, log_prob in scores.items():
                    if step is not None and math.exp(log_prob) < config.min_step_prob and not following:
                        continue
                    bonus = config.plan_bonus if step is not None and _planned(plan, depth, step) else 0.0
                    candidates.append((partial.score + log_prob + bonus, partial, step))
            candidates.sort(key=lambda c: (-c[0], [s.name for s in c[1].steps], c[2].name if c[2] else ""))
            beam = []
            for score, partial, step in candidates:
                if step is None:
                    if partial.steps and partial.steps not in exclude:
                        finished.append((_Partial(partial.steps, score, partial.frontier, partial.parents), False))
                    continue
                if len(beam) == config.beam_width:
                    continue
                extended, truncated = _walk(self.kg, config, partial, step, score, topic)
                explored += len(extended.frontier)
                if extended.frontier:
                    beam.append(extended)
                if truncated:
                    stopped = stopped or f"a frontier was cut to {config.max_nodes} entities"
            if time.perf_counter() - started > config.max_seconds:
                stopped = f"time limit of {config.max_seconds:g} s per question"
                break
            if not beam:
                break
        paths = sorted(
            (_found(self.kg, config, p, stopped is not None) for p, _ in finished), key=lambda f: (-f.score, f.steps)
        )
        return Exploration(tuple(p for p in paths if p.answers), explored, time.perf_counter() - started, stopped)

    def _steps_from(self, frontier: list[Identifier]) -> list[Step]:
        # The first entities are enough to know which relations lead on; looking at all would cost a query each.
        found: set[Step] = set()
        for node in frontier[:50]:
            found.update(self.kg.steps_from(node))
        return sorted(found)


def follow_path(
    kg: KnowledgeGraph, topic: Identifier, steps: Sequence[Step], config: ExplorerConfig | None = None
) -> FoundPath:
    """What the explorer reports for `steps` from `topic` (its answers and supporting triples, score 0),
    without a model: how a path another component names reads to the reflector."""
    config = config or ExplorerConfig()
    partial, truncated = _Partial((), 0.0, [topic]), False
    for step in steps:
        partial, cut = _walk(kg, config, partial, step, 0.0, topic)
        truncated = truncated or cut
    return _found(kg, config, partial, truncated)


def _walk(
    kg: KnowledgeGraph, config: ExplorerConfig, partial: _Partial, step: Step, score: float, topic: Identifier
) -> tuple[_Partial, bool]:
    # A path never comes back through its topic: "films by the director of X" are the other films.
    parents: dict[Identifier, Identifier] = {}
    for node in partial.frontier:
        for neighbour in kg.neighbours(node, step, limit=config.max_nodes):
            if neighbour not in parents and neighbour != topic:
                parents[neighbour] = node
        if len(parents) >= config.max_nodes:
            return _Partial((*partial.steps, step), score, list(parents), [*partial.parents, parents]), True
    return _Partial((*partial.steps, step), score, list(parents), [*partial.parents, parents]), False


def _found(kg: KnowledgeGraph, config: ExplorerConfig, partial: _Partial, truncated: bool) -> FoundPath:
    answers = sorted(partial.frontier, key=lambda n: (kg.label(n), str(n)))
    chains = []
    for node in answers[: config.max_supporting]:
        chain, current = [], node
        for step, parents in zip(reversed(partial.steps), reversed(partial.parents), strict=True):
            previous = parents[current]
            head, tail = (current, previous) if step.inverse else (previous, current)
            chain.append((kg.label(head), step.relation, kg.label(tail)))
            current = previous
        chains.append(tuple(reversed(chain)))
    labels = tuple(dict.fromkeys(kg.label(n) for n in answers))
    return FoundPath(partial.steps, partial.score, labels, tuple(chains), truncated)


def _planned(plan: Sequence[Step], depth: int, step: Step) -> bool:
    return depth < len(plan) and plan[depth] == step
