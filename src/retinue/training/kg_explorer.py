"""EffiQA's plug-in model: scores which relation a question follows next, from its path so far.

A question (topic entity masked) and each relation step are embedded once by frozen all-MiniLM-L6-v2.
A small network scores every possible next step, or stopping, given the question and the steps already
taken (up to `max_hops` slots, zero-padded):

    logit(next | question, prefix) = v · relu(A [question; prefix] + B next)

It is trained with cross-entropy on the gold relation paths of the train part of MetaQA dev: a path of
L steps gives L + 1 examples (each prefix -> its next step, the whole path -> stop). Because steps are
embedded from their words, a relation the model never saw still gets a score, if a less reliable one.
"""

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from retinue.envs.kgqa import KGQuestion
from retinue.memory.embeddings import DIMENSIONS, embed
from retinue.tools.knowledge_graph import Step
from retinue.training.model_folder import load_model_folder, save_model_folder

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


def _examples(
    paths: Sequence[tuple[Step, ...]], vocabulary: list[Step]
) -> tuple[list[int], list[list[int]], list[int]]:
    """(question row, prefix step indices, target index) per training example; target len(vocab) = stop."""
    index = {step: i for i, step in enumerate(vocabulary)}
    rows, prefixes, targets = [], [], []
    for row, path in enumerate(paths):
        for depth in range(len(path) + 1):
            rows.append(row)
            prefixes.append([index[s] for s in path[:depth]])
            targets.append(index[path[depth]] if depth < len(path) else len(vocabulary))
    return rows, prefixes, targets


def _prefix_matrix(prefixes: list[list[int]], step_vectors: torch.Tensor, max_hops: int) -> torch.Tensor:
    matrix = torch.zeros(len(prefixes), max_hops, DIMENSIONS)
    for i, prefix in enumerate(prefixes):
        if prefix:
            matrix[i, : len(prefix)] = step_vectors[prefix]
    return matrix.flatten(1)


def greedy_paths(model: ExplorerModel, questions: torch.Tensor) -> list[tuple[Step, ...]]:
    """The most likely path for each question, ignoring the graph: the model's own accuracy."""
    paths: list[tuple[Step, ...]] = []
    for vector in questions:
        prefix: list[Step] = []
        while True:
            scores = model.log_probs(vector, prefix, model.vocabulary)
            best = max(scores, key=lambda s: scores[s])
            if best is None:
                break
            prefix.append(best)
        paths.append(tuple(prefix))
    return paths


def train_explorer(
    train: Sequence[KGQuestion],
    validation: Sequence[KGQuestion],
    vocabulary: list[Step],
    epochs: int = 8,
    batch_size: int = 512,
    hidden: int = 256,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[ExplorerModel, dict[str, Any]]:
    """Train on `train`'s gold paths; report greedy path accuracy on `validation`, overall and per hop."""
    report = progress or (lambda task, done, total: None)
    torch.manual_seed(seed)
    started = time.perf_counter()
    texts = [masked_question(q.text) for q in [*train, *validation]]
    chunks = []
    for start in range(0, len(texts), 512):
        chunks.append(embed_texts(texts[start : start + 512]))
        report("embedding questions", min(len(texts), start + 512), len(texts))
    vectors = torch.cat(chunks)
    train_vectors, validation_vectors = vectors[: len(train)], vectors[len(train) :]
    step_vectors = embed_texts([s.words for s in vocabulary])
    rows, prefixes, targets = _examples([q.path or () for q in train], vocabulary)
    prefix_matrix = _prefix_matrix(prefixes, step_vectors, MAX_HOPS)
    row_index, target = torch.tensor(rows), torch.tensor(targets)
    scorer = PathScorer(hidden=hidden)
    optimiser = torch.optim.Adam(scorer.parameters(), lr=2e-3, weight_decay=1e-5)
    generator = torch.Generator().manual_seed(seed)
    batches = (len(rows) + batch_size - 1) // batch_size
    for epoch in range(epochs):
        order = torch.randperm(len(rows), generator=generator)
        for b in range(batches):
            batch = order[b * batch_size : (b + 1) * batch_size]
            logits = scorer(train_vectors[row_index[batch]], prefix_matrix[batch], step_vectors)
            loss = nn.functional.cross_entropy(logits, target[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            report("training", epoch * batches + b + 1, epochs * batches)
    scorer.eval()
    card = {"hidden": hidden, "epochs": epochs, "seed": seed, "train_questions": len(train)}
    model = ExplorerModel(scorer, list(vocabulary), step_vectors, card)
    metrics = _path_accuracy(model, validation, validation_vectors)
    metrics |= {
        "train_questions": len(train),
        "train_examples": len(rows),
        "final_loss": round(float(loss.detach()), 4),
    }
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    model.card["metrics"] = metrics
    return model, metrics


def _path_accuracy(model: ExplorerModel, questions: Sequence[KGQuestion], vectors: torch.Tensor) -> dict[str, Any]:
    predicted = greedy_paths(model, vectors)
    right = [p == q.path for p, q in zip(predicted, questions, strict=True)]
    metrics: dict[str, Any] = {"validation_questions": len(questions)}
    metrics["validation_path_accuracy"] = round(sum(right) / max(1, len(right)), 4)
    for hops in sorted({q.hops for q in questions if q.hops}):
        chosen = [ok for ok, q in zip(right, questions, strict=True) if q.hops == hops]
        metrics[f"validation_path_accuracy_{hops}hop"] = round(sum(chosen) / len(chosen), 4)
    return metrics
