"""The four text-classification sets of the ICL experiments, as (train, test) lists of (text, label word).

- fpb: Financial PhraseBank (50 % agreement), the seeded 80/20 split the sentiment commands share.
- sst2: SST-2, training phrases / test sentences, 0/1 as negative/positive.
- trec: TREC coarse question classes (train 5,452 / test 500), as words.
- agnews: AG News test set (the only part in the data root), split 50/50 with the seed.
Label words are lower case English words.
"""

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retinue.datasets.sentiment import LABELS, financial_phrasebank, phrasebank_split
from retinue.errors import RetinueError

Examples = list[tuple[str, str]]

TREC_WORDS = {"ABBR": "abbreviation", "DESC": "description", "ENTY": "entity", "HUM": "human", "LOC": "location",
              "NUM": "number"}  # fmt: skip
AG_WORDS = {"1": "world", "2": "sports", "3": "business", "4": "technology"}


@dataclass(frozen=True)
class ClassificationSet:
    name: str
    labels: tuple[str, ...]
    train: Examples
    test: Examples


def _lines(path: Path, encoding: str = "utf-8") -> list[str]:
    try:
        return path.read_text(encoding=encoding).splitlines()
    except FileNotFoundError:
        raise RetinueError(f"data file not found: {path}") from None


def _fpb(root: Path, seed: int) -> ClassificationSet:
    train, test = phrasebank_split(financial_phrasebank(root), seed)
    return ClassificationSet("fpb", LABELS, train, test)


def _sst2_file(path: Path) -> Examples:
    examples = []
    for number, line in enumerate(_lines(path), start=1):
        text, _, label = line.rpartition("\t")
        if label.strip() not in ("0", "1") or not text.strip():
            raise RetinueError(f"{path}, line {number}: expected text<TAB>0|1")
        examples.append((text.strip(), "positive" if label.strip() == "1" else "negative"))
    return examples


def _sst2(root: Path, seed: int) -> ClassificationSet:
    folder = root / "text" / "sst2"
    return ClassificationSet(
        "sst2",
        ("negative", "positive"),
        _sst2_file(folder / "sentiment-train.tsv"),
        _sst2_file(folder / "sentiment-test.tsv"),
    )


def _trec_file(path: Path) -> Examples:
    examples = []
    for number, line in enumerate(_lines(path, "latin-1"), start=1):
        label, _, question = line.partition(" ")
        coarse = label.split(":")[0]
        if coarse not in TREC_WORDS or not question:
            raise RetinueError(f"{path}, line {number}: expected COARSE:fine question")
        examples.append((question.strip(), TREC_WORDS[coarse]))
    return examples


def _trec(root: Path, seed: int) -> ClassificationSet:
    folder = root / "text" / "trec"
    return ClassificationSet(
        "trec",
        tuple(TREC_WORDS.values()),
        _trec_file(folder / "train_5500.label"),
        _trec_file(folder / "TREC_10.label"),
    )


def _agnews(root: Path, seed: int) -> ClassificationSet:
    path = root / "text" / "ag_news" / "test.csv"
    examples = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if len(row) != 3 or row[0] not in AG_WORDS:
                    raise RetinueError(f"{path}, line {number}: expected class (1-4), title, description")
                examples.append((f"{row[1]}. {row[2]}".replace("\\", " "), AG_WORDS[row[0]]))
    except FileNotFoundError:
        raise RetinueError(f"data file not found: {path}") from None
    random.Random(seed).shuffle(examples)
    half = len(examples) // 2
    return ClassificationSet("agnews", tuple(AG_WORDS.values()), examples[:half], examples[half:])


LOADERS: dict[str, Callable[[Path, int], ClassificationSet]] = {"fpb": _fpb, "sst2": _sst2, "trec": _trec,
                                                                "agnews": _agnews}  # fmt: skip


def load_classification_set(name: str, root: Path, seed: int = 0) -> ClassificationSet:
    if name not in LOADERS:
        raise RetinueError(f"unknown data set {name!r}; one of {', '.join(LOADERS)}")
    return LOADERS[name](root, seed)
