"""Question sets for knowledge-graph QA: MetaQA's format, its gold relation paths, and a seeded dev split.

A question file holds `question with [topic entity]<TAB>answer1|answer2` per line. MetaQA keeps each
question's gold relation path (`actor_to_movie_to_director`) in a parallel qtype file and, in our data
root, whether its gold answers are reachable in this kb (`qa_dev_answerable.tsv`). The train split of
MetaQA is not shipped, so `split_dev` cuts dev into train and validation by a seed.
"""

import csv
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retinue.envs.knowledge_graph import Step
from retinue.errors import RetinueError

HOPS = (1, 2, 3)
# MetaQA's qtype words: the relation that links a film to each kind of entity (films are the heads).
_RELATION_OF = {
    "actor": "starred_actors",
    "director": "directed_by",
    "writer": "written_by",
    "genre": "has_genre",
    "language": "in_language",
    "year": "release_year",
    "tag": "has_tags",
    "tags": "has_tags",
    "imdbrating": "has_imdb_rating",
    "imdbvotes": "has_imdb_votes",
}
_TOPIC = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True)
class KGQuestion:
    """One question: its text, topic entity name, gold answers and, where known, gold path and reachability."""

    id: str
    text: str
    topic: str | None
    answers: tuple[str, ...]
    path: tuple[Step, ...] | None = None
    answerable: bool | None = None

    @property
    def hops(self) -> int | None:
        return len(self.path) if self.path is not None else None


def qtype_path(qtype: str) -> tuple[Step, ...]:
    """`movie_to_director_to_movie_to_genre` -> (directed_by, ^directed_by, has_genre)."""
    kinds = qtype.strip().split("_to_")
    steps = []
    for source, target in zip(kinds, kinds[1:], strict=False):
        if source == "movie" and target in _RELATION_OF:
            steps.append(Step(_RELATION_OF[target]))
        elif target == "movie" and source in _RELATION_OF:
            steps.append(Step(_RELATION_OF[source], inverse=True))
        else:
            raise RetinueError(f"unknown MetaQA question type {qtype!r} (hop {source} -> {target})")
    return tuple(steps)


def read_questions(path: Path, id_prefix: str = "") -> list[KGQuestion]:
    """Questions in MetaQA's format; any file laid out that way works (`--questions FILE`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RetinueError(f"question file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise RetinueError(f"{path} is not UTF-8 text: {error}") from None
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        text, tab, answers = line.partition("\t")
        if not tab or not answers.strip():
            raise RetinueError(f"{path}:{number}: expected 'question<TAB>answer1|answer2', got {line[:80]!r}")
        topic = _TOPIC.search(text)
        questions.append(
            KGQuestion(
                id=f"{id_prefix}{number - 1}",
                text=text.strip(),
                topic=topic.group(1) if topic else None,
                answers=tuple(a.strip() for a in answers.split("|") if a.strip()),
            )
        )
    if not questions:
        raise RetinueError(f"{path} holds no questions")
    return questions


def metaqa_questions(root: Path, hops: int, variant: str = "vanilla") -> list[KGQuestion]:
    """MetaQA dev questions of `hops` hops from the data root, with gold paths and reachability."""
    if hops not in HOPS:
        raise RetinueError(f"--hops must be 1, 2 or 3, not {hops}")
    folder = root / "metaqa" / f"{hops}-hop"
    questions = read_questions(folder / variant / "qa_dev.txt", id_prefix=f"{hops}hop-")
    qtypes = _lines(folder / "qa_dev_qtype.txt")
    reachable = _answerable(folder / "qa_dev_answerable.tsv")
    if len(qtypes) != len(questions) or len(reachable) != len(questions):
        raise RetinueError(f"{folder}: {len(questions)} questions but {len(qtypes)} qtypes, {len(reachable)} rows")
    return [
        KGQuestion(q.id, q.text, q.topic, q.answers, qtype_path(qtype), ok)
        for q, qtype, ok in zip(questions, qtypes, reachable, strict=True)
    ]


def split_dev(questions: Sequence[KGQuestion], seed: int, validation: float = 0.2) -> tuple[list, list]:
    """A seeded split into (train, validation); the same seed always gives the same split."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    cut = round(len(order) * (1 - validation))
    return [questions[i] for i in sorted(order[:cut])], [questions[i] for i in sorted(order[cut:])]


def _lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise RetinueError(f"file not found: {path} (is the data root laid out as in its README?)") from None


def _answerable(path: Path) -> list[bool]:
    try:
        with path.open(encoding="utf-8", newline="") as rows:
            return [row["any_gold_reachable"] == "1" for row in csv.DictReader(rows, delimiter="\t")]
    except FileNotFoundError:
        raise RetinueError(f"file not found: {path}") from None
    except KeyError:
        raise RetinueError(f"{path} has no any_gold_reachable column") from None
