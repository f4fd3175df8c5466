"""Training and evaluating KBGN on a generated set: cross-entropy over each round's candidates, Adam,
seeded batches of rounds; the model is a folder with its tensors and a card, as every trained model."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from retinue.models.model_folder import load_model_folder, save_model_folder
from retinue.training.kbgn.dataset import VisDialSet
from retinue.training.kbgn.metrics import gt_ranks, ndcg, summarise
from retinue.training.kbgn.model import KBGN, KBGNConfig, round_batch

WEIGHTS = "kbgn.pt"
ABLATIONS = {
    "full": {},
    "no-bridge": {"bridges": False},
    "no-gate": {"retrieval_gate": False},
    "question-only": {"question_only": True},
}
Progress = Callable[[int, int], None]


def _all_rounds(data: VisDialSet) -> tuple[torch.Tensor, torch.Tensor]:
    dialogs = torch.arange(data.dialogs).repeat_interleave(data.rounds)
    return dialogs, torch.arange(data.rounds).repeat(data.dialogs)


def train_kbgn(
    data: VisDialSet,
    ablation: str = "full",
    epochs: int = 5,
    batch_size: int = 64,
    seed: int = 0,
    progress: Progress | None = None,
) -> KBGN:
    torch.manual_seed(seed)
    config = KBGNConfig(vocab_size=len(data.vocabulary.words), **ABLATIONS[ablation])
    model = KBGN(config)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    dialogs, rounds = _all_rounds(data)
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * -(-len(dialogs) // batch_size)
    done = 0
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(dialogs), generator=generator).split(batch_size):
            inputs = round_batch(data.tensors, dialogs[batch], rounds[batch])
            scores = model(inputs, data.pool)
            target = data.tensors["gt_index"][dialogs[batch], rounds[batch]]
            loss = torch.nn.functional.cross_entropy(scores, target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            done += 1
            if progress:
                progress(done, steps)
    return model.eval()


@torch.no_grad()
def evaluate(model: KBGN, data: VisDialSet, batch_size: int = 256) -> dict[str, float]:
    model.eval()
    dialogs, rounds = _all_rounds(data)
    ranks, ndcgs = [], []
    for batch in torch.arange(len(dialogs)).split(batch_size):
        scores = model(round_batch(data.tensors, dialogs[batch], rounds[batch]), data.pool)
        ranks.append(gt_ranks(scores, data.tensors["gt_index"][dialogs[batch], rounds[batch]]))
        ndcgs.append(ndcg(scores, data.tensors["relevance"][dialogs[batch], rounds[batch]]))
    return summarise(torch.cat(ranks), torch.cat(ndcgs))


def save_kbgn(model: KBGN, folder: Path, card: dict[str, Any]) -> None:
    save_model_folder(folder, WEIGHTS, model.state_dict(), {**card, "config": model.config.to_dict()})


def load_kbgn(folder: Path) -> tuple[KBGN, dict[str, Any]]:
    tensors, card = load_model_folder(folder, WEIGHTS, "KBGN model")
    model = KBGN(KBGNConfig(**card["config"]))
    model.load_state_dict(tensors)
    return model.eval(), card
