"""Local models as tools for agents."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retinue.models.student import StudentClassifier


@dataclass
class SentimentTool:
    """A trained financial-sentiment student (`retinue train sentiment`), scoring texts."""

    model: StudentClassifier

    @classmethod
    def load(cls, folder: Path) -> "SentimentTool":
        return cls(StudentClassifier.load(folder))

    def summary(self, texts: Sequence[str]) -> str:
        """One line for an analyst's report: label counts and the mean score (positive - negative)."""
        if not texts:
            return "sentiment model: nothing to score"
        probabilities = self.model.probabilities(texts)
        labels = [self.model.classes[i] for i in probabilities.argmax(axis=1)]
        counts = Counter(labels)
        classes = self.model.classes
        score = float(
            (probabilities[:, classes.index("positive")] - probabilities[:, classes.index("negative")]).mean()
        )
        parts = ", ".join(f"{counts.get(c, 0)} {c}" for c in ("positive", "neutral", "negative"))
        return f"sentiment model on {len(texts)} items: {parts}; mean score {score:+.2f}"


@dataclass
class VisualDialogTool:
    """A trained KBGN (`retinue train kbgn`) that answers a question about a generated scene, given its
    caption and the dialogue so far, by ranking every answer phrasing it knows."""

    model: Any
    vocabulary: Any  # of the model's data folder, with its answer phrasings and their tokens
    answers: list[str]
    pool: Any
    encoder: Any  # the data folder's region CNN

    @classmethod
    def load(cls, folder: Path) -> "VisualDialogTool":
        import torch

        from retinue.training.kbgn.dataset import load_text_side
        from retinue.training.kbgn.features import CropEncoder
        from retinue.training.kbgn.train import load_kbgn

        model, card = load_kbgn(folder)
        data_dir = Path(card["data_dir"])
        encoder = CropEncoder()
        encoder.load_state_dict(torch.load(data_dir / "crop_encoder.pt", weights_only=True))
        return cls(model, *load_text_side(data_dir), encoder.eval())

    def answer(
        self, objects: Sequence[Any], caption: str, history: Sequence[tuple[str, str]], question: str, top: int = 3
    ) -> list[tuple[str, float]]:
        """The `top` answers with their probabilities (softmax over every phrasing)."""
        import numpy as np
        import torch

        from retinue.training.kbgn.features import region_features
        from retinue.training.kbgn.model import round_batch
        from retinue.training.kbgn.scenes import Dialog

        encode = self.vocabulary.encode
        regions, mask = region_features(self.encoder, [Dialog(list(objects), caption, [])])
        turns = [f"{q} {a}" for q, a in history] + [""]
        pool = self.pool
        tensors = {
            "regions": torch.from_numpy(regions),
            "region_mask": torch.from_numpy(mask),
            "caption": torch.from_numpy(encode(caption)).unsqueeze(0),
            "history": torch.from_numpy(np.stack([encode(t) for t in turns])).unsqueeze(0),
            "question": torch.from_numpy(np.stack([encode(question)] * len(turns))).unsqueeze(0),
            "candidates": torch.arange(len(pool)).repeat(len(turns), 1).unsqueeze(0),
        }
        with torch.no_grad():
            scores = self.model(round_batch(tensors, torch.tensor([0]), torch.tensor([len(history)])), pool)
        probabilities = torch.softmax(scores[0], dim=0)
        best = probabilities.argsort(descending=True)[:top]
        return [(self.answers[i], round(float(probabilities[i]), 4)) for i in best.tolist()]
