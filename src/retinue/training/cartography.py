"""Dataset cartography (Swayamdipta et al., 2020), the filter SynthesizRR applies to a synthetic set before
distilling it: train the student on the whole set, follow each example's probability of its own label
over training, and keep the examples the student learns most confidently, the same share of each label
(the reference keeps 83 %). Examples that stay unlikely are the ones most often mislabelled or
incoherent."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from retinue.errors import RetinueError
from retinue.training.student import train_head


@dataclass(frozen=True)
class Dynamics:
    confidence: np.ndarray  # mean probability of the gold label over training, per example
    variability: np.ndarray  # its standard deviation


def training_dynamics(
    features: np.ndarray, labels: Sequence[str], classes: Sequence[str], epochs: int = 300, seed: int = 0
) -> Dynamics:
    seen: list[torch.Tensor] = []
    train_head(features, labels, classes, epochs, seed, record=seen.append)
    history = torch.stack(seen).numpy()  # (epochs, examples)
    return Dynamics(history.mean(axis=0), history.std(axis=0))


def keep_most_confident(labels: Sequence[str], confidence: np.ndarray, share: float) -> list[int]:
    """Indices (in order) of the ceil(share * n) most confident examples of each label."""
    if not 0 < share <= 1:
        raise RetinueError(f"the share of examples to keep must be in (0, 1], not {share}")
    kept: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, other in enumerate(labels) if other == label]
        members.sort(key=lambda i: -confidence[i])
        kept += members[: math.ceil(share * len(members))]
    return sorted(kept)
