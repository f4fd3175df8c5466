"""Training a student text classifier (`models/student.py`): frozen MiniLM sentence embeddings and a
trained softmax head.

The head is multinomial logistic regression on unit-normalised 384-d embeddings, trained full-batch
with Adam and a little L2, seeded. The model is a folder: `head.pt` (the head's tensors, loaded with
`weights_only=True`) and `card.json` (task, labels, training data, metrics), as in `model_folder`.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch


def train_head(
    features: np.ndarray,
    labels: Sequence[str],
    classes: Sequence[str],
    epochs: int = 300,
    seed: int = 0,
    record: Callable[[torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's weight and bias after `epochs` full-batch steps; `record`, if given, sees each example's
    probability of its gold label before every step (the training dynamics dataset cartography reads)."""
    torch.manual_seed(seed)
    x = torch.from_numpy(features)
    y = torch.tensor([classes.index(label) for label in labels])
    weight = torch.zeros(len(classes), x.shape[1], requires_grad=True)
    bias = torch.zeros(len(classes), requires_grad=True)
    optimiser = torch.optim.Adam([weight, bias], lr=0.05, weight_decay=1e-4)
    for _ in range(epochs):
        optimiser.zero_grad()
        logits = x @ weight.T + bias
        if record is not None:
            record(torch.softmax(logits.detach(), dim=1)[torch.arange(len(y)), y])
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        optimiser.step()
    return weight.detach(), bias.detach()
