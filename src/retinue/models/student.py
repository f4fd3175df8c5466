"""A student text classifier, the inference half: frozen MiniLM sentence embeddings and a trained
softmax head (`training/student.py` trains it). The model is a folder: `head.pt` (the head's tensors,
loaded with `weights_only=True`) and `card.json` (task, labels, training data, metrics).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from retinue.memory.embeddings import embed
from retinue.models.model_folder import load_model_folder, save_model_folder

HEAD_FILE = "head.pt"


@dataclass
class StudentClassifier:
    classes: list[str]
    weight: torch.Tensor
    bias: torch.Tensor
    card: dict[str, Any]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = torch.from_numpy(embed(texts)) @ self.weight.T + self.bias
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes[i] for i in self.probabilities(texts).argmax(axis=1)]

    def save(self, folder: Path) -> None:
        card = {**self.card, "classes": self.classes}
        save_model_folder(folder, HEAD_FILE, {"weight": self.weight, "bias": self.bias}, card)

    @classmethod
    def load(cls, folder: Path) -> "StudentClassifier":
        tensors, card = load_model_folder(folder, HEAD_FILE, "classifier")
        return cls(list(card["classes"]), tensors["weight"], tensors["bias"], card)
