"""EffiQA's plug-in model, the inference half: scores which relation a question follows next, from its
path so far (`training/kg_explorer.py` trains it).

A question (topic entity masked) and each relation step are embedded once by frozen all-MiniLM-L6-v2.
A small network scores every possible next step, or stopping, given the question and the steps already
taken (up to `max_hops` slots, zero-padded):

    logit(next | question, prefix) = v · relu(A [question; prefix] + B next)

Because steps are embedded from their words, a relation the model never saw still gets a score, if a
less reliable one.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from retinue.envs.knowledge_graph import Step
from retinue.memory.embeddings import DIMENSIONS, embed
from retinue.models.model_folder import load_model_folder, save_model_folder

TENSOR_FILE = "explorer.pt"
MAX_HOPS = 3
_BRACKETED = re.compile(r"\[[^\[\]]+\]")


def masked_question(text: str, mention: str | None = None) -> str:
    """The question with its topic entity replaced by a placeholder: the path depends on the wording,
    not on which film or actor is asked about."""
    if _BRACKETED.search(text):
        return _BRACKETED.sub("[entity]", text)
    return text.replace(mention, "[entity]") if mention else text


def embed_texts(texts: Sequence[str]) -> torch.Tensor:
    return torch.from_numpy(embed(texts))


class PathScorer(nn.Module):
    """Scores each candidate next step (and stop) for a batch of (question, prefix) pairs."""

    def __init__(self, hidden: int = 256, max_hops: int = MAX_HOPS) -> None:
        super().__init__()
        self.max_hops = max_hops
        self.context = nn.Linear(DIMENSIONS * (1 + max_hops), hidden)
        self.candidate = nn.Linear(DIMENSIONS, hidden, bias=False)
        self.stop = nn.Parameter(torch.zeros(DIMENSIONS))
        self.out = nn.Linear(hidden, 1)

    def forward(self, questions: torch.Tensor, prefixes: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """questions (B, D), prefixes (B, max_hops * D), steps (C, D) -> logits (B, C + 1); the last is stop."""
        context = self.context(torch.cat([questions, prefixes], dim=1))
        candidates = self.candidate(torch.cat([steps, self.stop[None, :]], dim=0))
        return self.out(torch.relu(context[:, None, :] + candidates[None, :, :])).squeeze(-1)


@dataclass
class ExplorerModel:
    """The trained scorer with its step vocabulary; `log_probs` is what the explorer asks."""

    scorer: PathScorer
    vocabulary: list[Step]
    step_vectors: torch.Tensor
    card: dict[str, Any] = field(default_factory=dict)
    _vectors: dict[Step, torch.Tensor] = field(default_factory=dict, init=False, repr=False)

    def vectors_for(self, steps: Sequence[Step]) -> torch.Tensor:
        """The steps' vectors; a step the model never saw is embedded from its words, once."""
        if not self._vectors:
            self._vectors.update(zip(self.vocabulary, self.step_vectors, strict=True))
        missing = [s for s in dict.fromkeys(steps) if s not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, embed_texts([s.words for s in missing]), strict=True))
        return torch.stack([self._vectors[s] for s in steps])

    def prefix_vector(self, prefix: Sequence[Step]) -> torch.Tensor:
        slots = torch.zeros(self.scorer.max_hops, DIMENSIONS)
        if prefix:
            slots[: len(prefix)] = self.vectors_for(prefix[: self.scorer.max_hops])
        return slots.flatten()

    @torch.no_grad()
    def log_probs(
        self, question: torch.Tensor, prefix: Sequence[Step], allowed: Sequence[Step]
    ) -> dict[Step | None, float]:
        """log P(next step | question, prefix) over `allowed` steps and stop (None), normalised over them.
        Stop is impossible before the first hop and certain after the last."""
        if len(prefix) >= self.scorer.max_hops or not allowed:
            return {None: 0.0} if prefix else {}
        logits = self.scorer(question[None, :], self.prefix_vector(prefix)[None, :], self.vectors_for(allowed))[0]
        if not prefix:
            logits[-1] = float("-inf")
        values = torch.log_softmax(logits, dim=0).tolist()
        return {**dict(zip(allowed, values[:-1], strict=True)), **({None: values[-1]} if prefix else {})}

    def save(self, folder: Path) -> None:
        tensors = {"state": self.scorer.state_dict(), "step_vectors": self.step_vectors}
        card = {**self.card, "vocabulary": [s.name for s in self.vocabulary], "max_hops": self.scorer.max_hops}
        save_model_folder(folder, TENSOR_FILE, tensors, card)

    @classmethod
    def load(cls, folder: Path) -> "ExplorerModel":
        tensors, card = load_model_folder(folder, TENSOR_FILE, "explorer model")
        scorer = PathScorer(hidden=int(card["hidden"]), max_hops=int(card["max_hops"]))
        scorer.load_state_dict(tensors["state"])
        scorer.eval()
        return cls(scorer, [Step.parse(n) for n in card["vocabulary"]], tensors["step_vectors"], card)
