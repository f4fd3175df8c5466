"""ZIP data selection (the entropy law, Yin et al. 2024): keep the zlib compression ratio of the selected
data low, since a model learns less from redundant data.

compression ratio(S) = bytes of S's texts (joined by newlines) / bytes of their zlib (level 9) stream.
Each round, until the budget is met:
1. global: the K1 pool items with the lowest score, where an item's score is the ratio of the selected
   set with it added, computed when the item was last looked at (lazily: at first, the item alone);
2. local coarse: those K1 are re-scored against the current selection; the K2 lowest are kept;
3. local fine: K3 of them are added one at a time, each time the one that keeps the selection's ratio
   lowest.
A candidate's ratio is priced incrementally: the selection's compressor state is copied and only the
candidate is fed to the copy, so scoring costs the candidate's size, not the selection's (zlib looks back
32 KB at most), and selection time grows about linearly with the budget.
"""

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError
from retinue.jsonfiles import read_json, read_jsonl

LEVEL = 9
Progress = Callable[[int, int], None]


def compression_ratio(texts: Sequence[str]) -> float:
    """Raw bytes / compressed bytes of the texts joined by newlines (a one-shot reference)."""
    raw = "".join(f"{t}\n" for t in texts).encode("utf-8")
    return len(raw) / len(zlib.compress(raw, LEVEL)) if raw else 0.0


class _Stream:
    """The selection so far as one zlib stream, to price additions without recompressing it."""

    def __init__(self) -> None:
        self.compressor = zlib.compressobj(LEVEL)
        self.raw = 0
        self.emitted = 0

    def ratio_with(self, *pieces: bytes) -> float:
        trial = self.compressor.copy()
        size = self.emitted + sum(len(trial.compress(p)) for p in pieces) + len(trial.flush())
        return (self.raw + sum(len(p) for p in pieces)) / size

    def add(self, piece: bytes) -> None:
        self.emitted += len(self.compressor.compress(piece))
        self.raw += len(piece)

    def ratio(self) -> float:
        return self.ratio_with() if self.raw else 0.0


@dataclass(frozen=True)
class Selection:
    indices: list[int]  # into the pool, in the order chosen
    ratio: float


def zip_select(
    texts: Sequence[str],
    budget: int,
    k1: int = 10_000,
    k2: int = 200,
    k3: int = 100,
    progress: Progress | None = None,
    costs: Sequence[int] | None = None,
) -> Selection:
    """Items chosen by ZIP until `budget` is spent: a count of items, or, with `costs` (say each item's
    tokens), their total cost (the last item chosen may pass it). The order chosen is the same whatever the
    budget, so a smaller budget's selection is a prefix of a larger one's."""
    if costs is not None and (len(costs) != len(texts) or any(c < 1 for c in costs)):
        raise RetinueError("ZIP needs a cost of at least 1 for every item")
    item_costs = list(costs) if costs is not None else [1] * len(texts)
    if not 0 < budget <= sum(item_costs):
        unit = "the pool's total cost" if costs is not None else "the pool size"
        raise RetinueError(f"the budget must be between 1 and {unit} {sum(item_costs)}, not {budget}")
    if not (k1 >= k2 >= k3 >= 1):
        raise RetinueError(f"ZIP needs k1 >= k2 >= k3 >= 1, got {k1}, {k2}, {k3}")
    pieces = [f"{t}\n".encode() for t in texts]
    stream = _Stream()
    scores = {i: _Stream().ratio_with(p) for i, p in enumerate(pieces)}  # each item alone
    chosen: list[int] = []
    spent = 0
    while spent < budget:
        top = sorted(scores, key=lambda i: (scores[i], i))[:k1]
        for i in top:
            scores[i] = stream.ratio_with(pieces[i])
        shortlist = sorted(top, key=lambda i: (scores[i], i))[:k2]
        for _ in range(min(k3, len(shortlist))):
            if spent >= budget:
                break
            best = min(shortlist, key=lambda i: (stream.ratio_with(pieces[i]), i))
            shortlist.remove(best)
            stream.add(pieces[best])
            chosen.append(best)
            spent += item_costs[best]
            del scores[best]
        if progress is not None:
            progress(min(spent, budget), budget)
    return Selection(chosen, stream.ratio())


def sharegpt_text(item: dict[str, Any]) -> str:
    return "\n".join(f"{turn.get('from', '')}: {turn.get('value', '')}" for turn in item.get("conversations", []))


def load_pool(path: Path, field: str = "text") -> tuple[list[Any], list[str], str]:
    """(items, their texts, format): a ShareGPT JSON list, or JSONL with a text `field`."""
    if path.suffix == ".json":
        items = read_json(path, "--pool")
        if not isinstance(items, list) or not all(isinstance(i, dict) and "conversations" in i for i in items):
            raise RetinueError(f"{path}: expected a ShareGPT list of {{'conversations': [...]}} items")
        return items, [sharegpt_text(i) for i in items], "sharegpt"
    items, texts = [], []
    for number, item in read_jsonl(path, "--pool"):
        if not isinstance(item.get(field), str):
            raise RetinueError(f"{path}, line {number}: no text field {field!r}")
        items.append(item)
        texts.append(item[field])
    if not items:
        raise RetinueError(f"{path} holds no items")
    return items, texts, "jsonl"
