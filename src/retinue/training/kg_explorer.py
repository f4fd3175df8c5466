"""Training EffiQA's plug-in explorer (`models/kg_explorer.py`) with cross-entropy on the gold relation
paths of the train part of MetaQA dev: a path of L steps gives L + 1 examples (each prefix -> its next
step, the whole path -> stop).
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from retinue.envs.kgqa import KGQuestion
from retinue.envs.knowledge_graph import Step
from retinue.memory.embeddings import DIMENSIONS
from retinue.models.kg_explorer import MAX_HOPS, ExplorerModel, PathScorer, embed_texts, masked_question


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
