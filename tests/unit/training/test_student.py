"""The sentiment student: metrics by hand, head training, the model folder, the tool's summary."""

from pathlib import Path

import numpy as np
import pytest

import retinue.models.student as student
from retinue.errors import RetinueError
from retinue.evaluation.classification import accuracy, macro_f1
from retinue.models.student import StudentClassifier
from retinue.tools.local_models import SentimentTool
from retinue.training.student import train_head

CLASSES = ["negative", "neutral", "positive"]


def test_metrics_by_hand() -> None:
    gold = ["positive", "positive", "negative", "neutral"]
    predicted = ["positive", "negative", "negative", "positive"]
    assert accuracy(gold, predicted) == 0.5
    # positive: tp 1, fp 1, fn 1 -> 0.5; negative: tp 1, fp 1, fn 0 -> 2/3; neutral: tp 0 -> 0
    assert macro_f1(gold, predicted, CLASSES) == pytest.approx((0.5 + 2 / 3 + 0) / 3)


def _fake_embed(texts: list[str]) -> np.ndarray:
    """Word-presence features: "up" -> axis 2, "down" -> axis 0, else axis 1."""
    rows = []
    for text in texts:
        row = np.zeros(4, dtype=np.float32)
        row[2 if "up" in text else 0 if "down" in text else 1] = 1.0
        row[3] = 0.1
        rows.append(row)
    return np.stack(rows)


def test_the_head_learns_and_the_model_folder_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(student, "embed", _fake_embed)
    texts = ["shares up", "profit up", "shares down", "loss down", "meeting held", "report filed"]
    labels = ["positive", "positive", "negative", "negative", "neutral", "neutral"]
    weight, bias = train_head(_fake_embed(texts), labels, CLASSES, epochs=200)
    model = StudentClassifier(CLASSES, weight, bias, {"task": "test"})
    assert model.predict(["sales up", "costs down", "board met"]) == ["positive", "negative", "neutral"]
    model.save(tmp_path / "m")
    loaded = StudentClassifier.load(tmp_path / "m")
    assert loaded.predict(["sales up"]) == ["positive"] and loaded.card["task"] == "test"
    summary = SentimentTool(loaded).summary(["sales up", "costs down", "revenue up"])
    assert summary.startswith("sentiment model on 3 items: 2 positive, 0 neutral, 1 negative; mean score +0.")
    (tmp_path / "m" / "head.pt").write_bytes((tmp_path / "m" / "head.pt").read_bytes() + b"x")
    with pytest.raises(RetinueError, match="does not match its card"):
        StudentClassifier.load(tmp_path / "m")
    with pytest.raises(RetinueError, match="no trained classifier"):
        StudentClassifier.load(tmp_path / "nothing")
