"""Local models as tools for agents."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retinue.training.student import StudentClassifier


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
