"""Labelled financial sentiment (shared/data/sentiment/): Financial PhraseBank and Twitter financial news,
both as (text, label) with labels negative / neutral / positive."""

import csv
import random
from collections.abc import Sequence
from pathlib import Path

from retinue.errors import RetinueError
from retinue.jsonfiles import read_jsonl

LABELS = ("negative", "neutral", "positive")
TWITTER_LABELS = {"bearish": "negative", "neutral": "neutral", "bullish": "positive"}


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise RetinueError(f"sentiment file not found: {path}") from None


def financial_phrasebank(root: Path) -> list[tuple[str, str]]:
    """Financial PhraseBank, sentences with at least 50 % annotator agreement (4,846)."""
    path = root / "sentiment" / "financial_phrasebank_50agree.csv"
    examples = []
    for line, row in enumerate(_rows(path), start=2):
        if row.get("label") not in LABELS or not row.get("text"):
            raise RetinueError(f"{path}, line {line}: expected text and a label in {LABELS}")
        examples.append((row["text"], row["label"]))
    return examples


def phrasebank_all_agree(root: Path) -> list[tuple[str, str]]:
    """Financial PhraseBank's sentences on which every annotator agreed (2,264; `sentence@label`, latin-1)."""
    path = root / "sentiment" / "financial_phrasebank_allagree.txt"
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except FileNotFoundError:
        raise RetinueError(f"sentiment file not found: {path}") from None
    examples = []
    for number, line in enumerate(lines, start=1):
        text, _, label = line.rpartition("@")
        if label not in LABELS or not text.strip():
            raise RetinueError(f"{path}, line {number}: expected sentence@label with a label in {LABELS}")
        examples.append((text.strip(), label))
    return examples


def twitter_financial_news(root: Path, split: str = "valid") -> list[tuple[str, str]]:
    """Finance tweets of one split ("train" or "valid"), bearish/bullish mapped to negative/positive."""
    path = root / "sentiment" / "twitter_financial_news_sentiment.csv"
    examples = []
    for line, row in enumerate(_rows(path), start=2):
        if row.get("label_name") not in TWITTER_LABELS:
            raise RetinueError(f"{path}, line {line}: unknown label_name {row.get('label_name')!r}")
        if row.get("split") == split:
            examples.append((row["text"], TWITTER_LABELS[row["label_name"]]))
    if not examples:
        raise RetinueError(f"{path} has no rows in split {split!r}")
    return examples


def phrasebank_split(
    examples: list[tuple[str, str]], seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The seeded 80/20 train/test split every sentiment command shares."""
    shuffled = examples.copy()
    random.Random(seed).shuffle(shuffled)
    cut = int(0.8 * len(shuffled))
    return shuffled[:cut], shuffled[cut:]


def labelled_jsonl(path: Path, labels: Sequence[str]) -> list[tuple[str, str]]:
    """(text, label) from a JSONL file of {"text", "label"} objects."""
    examples = []
    for number, item in read_jsonl(path, "labelled file"):
        if not isinstance(item.get("text"), str) or item.get("label") not in labels:
            raise RetinueError(f'{path}, line {number}: expected {{"text": ..., "label": one of {list(labels)}}}')
        examples.append((item["text"], item["label"]))
    if not examples:
        raise RetinueError(f"{path} holds no examples")
    return examples
