"""FinMem-style layered memory for an agent, kept in any LangGraph `BaseStore` (FaissStore by default).

Each memory sits in one layer. A layer has a recency horizon Q (days) and a daily importance decay:

| layer | Q   | importance x per day | promoted when importance >= |
|-------|-----|----------------------|-----------------------------|
| short | 3   | 0.92                 | 60 (to mid)                 |
| mid   | 90  | 0.967                | 80 (to long)                |
| long  | 365 | 0.988                | -                           |

recency = exp(-delta / Q), delta = days since the memory entered its layer; a memory is scored by
similarity (cosine, from the store's vector search) + recency + importance / 100; `advance(day)` decays
importance, promotes (recency starts again in the new layer; a memory moves at most one layer a day and
not on the day it entered its layer, so advancing twice to the same day changes nothing) and removes
memories whose recency fell below 0.05 or whose importance fell below 5; `reward(key, day)` adds 5
importance (positive feedback), at most once per memory and day, so a replayed day does not reward twice.
Items live under `owner + (layer,)`, so agents and runs stay apart by namespace.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Op, PutOp

from retinue.errors import RetinueError


@dataclass(frozen=True)
class Layer:
    name: str
    recency_days: float
    daily_decay: float
    promote_at: float | None


LAYERS = (
    Layer("short", 3, 0.92, 60),
    Layer("mid", 90, 0.967, 80),
    Layer("long", 365, 0.988, None),
)
MIN_RECENCY = 0.05
MIN_IMPORTANCE = 5.0
FEEDBACK_IMPORTANCE = 5.0
# Ranking needs every memory's similarity, not only the nearest few: agent memories are small enough.
MAX_CANDIDATES = 10_000


@dataclass(frozen=True)
class Recalled:
    """A retrieved memory with the parts of its score."""

    key: str
    layer: str
    text: str
    similarity: float
    recency: float
    importance: float

    @property
    def score(self) -> float:
        return self.similarity + self.recency + self.importance / 100


@dataclass(frozen=True)
class NewMemory:
    """A memory to add under a key that makes adding it again a no-op."""

    key: str
    text: str
    day: date
    importance: float
    layer: str = "short"


@dataclass(frozen=True)
class Aged:
    """What `advance` did."""

    promoted: list[str]
    removed: list[str]


def recency(layer: Layer, days: float) -> float:
    return math.exp(-max(days, 0.0) / layer.recency_days)


def decayed_importance(layer: Layer, importance: float, days: float) -> float:
    return importance * layer.daily_decay ** max(days, 0.0)


class LayeredMemory:
    """One agent's layered memory under `owner` (a namespace tuple such as ("fincon", "news_analyst"))."""

    def __init__(self, store: BaseStore, owner: tuple[str, ...]) -> None:
        self.store = store
        self.owner = owner
        self._layers = {layer.name: layer for layer in LAYERS}

    def _namespace(self, layer: str) -> tuple[str, ...]:
        return (*self.owner, layer)

    def add(self, text: str, day: date, importance: float, layer: str = "short", key: str | None = None) -> str:
        if layer not in self._layers:
            raise RetinueError(f"unknown memory layer {layer!r}; layers: {', '.join(self._layers)}")
        key = key or uuid.uuid4().hex
        self.store.put(
            self._namespace(layer),
            key,
            {"text": text, "importance": float(importance), "as_of": day.isoformat(), "entered": day.isoformat()},
        )
        return key

    def add_new(self, memories: list["NewMemory"]) -> list[str]:
        """Add the memories whose keys are not stored yet, in one batch; returns the keys added."""
        for memory in memories:
            if memory.layer not in self._layers:
                raise RetinueError(f"unknown memory layer {memory.layer!r}; layers: {', '.join(self._layers)}")
        found = self.store.batch([GetOp(self._namespace(layer.name), m.key) for m in memories for layer in LAYERS])
        stored = {m.key for i, m in enumerate(memories) if any(found[i * len(LAYERS) : (i + 1) * len(LAYERS)])}
        fresh = {m.key: m for m in memories if m.key not in stored}  # the last of duplicate keys wins
        self.store.batch(
            [
                PutOp(
                    self._namespace(m.layer),
                    m.key,
                    {
                        "text": m.text,
                        "importance": float(m.importance),
                        "as_of": m.day.isoformat(),
                        "entered": m.day.isoformat(),
                    },
                )
                for m in fresh.values()
            ]
        )
        return list(fresh)

    def _state(self, layer: Layer, value: dict[str, Any], day: date) -> tuple[float, float]:
        """(recency, importance) of a stored memory as of `day`."""
        entered, as_of = date.fromisoformat(value["entered"]), date.fromisoformat(value["as_of"])
        importance = decayed_importance(layer, float(value["importance"]), (day - as_of).days)
        return recency(layer, (day - entered).days), importance

    def retrieve(self, query: str, day: date, k: int = 5) -> list[Recalled]:
        """The k best memories across layers by similarity + recency + importance / 100."""
        recalled = []
        for layer in LAYERS:
            for item in self.store.search(self._namespace(layer.name), query=query, limit=MAX_CANDIDATES):
                fresh, importance = self._state(layer, item.value, day)
                recalled.append(
                    Recalled(item.key, layer.name, item.value["text"], float(item.score or 0.0), fresh, importance)
                )
        return sorted(recalled, key=lambda r: r.score, reverse=True)[:k]

    def reward(self, key: str, day: date, amount: float = FEEDBACK_IMPORTANCE) -> None:
        """Positive feedback: the memory's importance (decayed to `day`) rises by `amount`."""
        for layer in LAYERS:
            item = self.store.get(self._namespace(layer.name), key)
            if item is not None:
                rewarded = list(item.value.get("rewarded", []))
                if day.isoformat() in rewarded:
                    return
                _, importance = self._state(layer, item.value, day)
                value = {
                    **item.value,
                    "importance": importance + amount,
                    "as_of": day.isoformat(),
                    "rewarded": [*rewarded, day.isoformat()],
                }
                self.store.put(self._namespace(layer.name), key, value)
                return
        raise RetinueError(f"no memory {key!r} under {self.owner}")

    def advance(self, day: date) -> Aged:
        """Decay every memory to `day`, promote the important ones, remove the stale and the unimportant."""
        promoted, removed = [], []
        ops: list[Op] = []
        for position, layer in enumerate(LAYERS):
            for item in self.store.search(self._namespace(layer.name), limit=MAX_CANDIDATES):
                fresh, importance = self._state(layer, item.value, day)
                value = {**item.value, "importance": importance, "as_of": day.isoformat()}
                entered_before = date.fromisoformat(item.value["entered"]) < day
                if fresh < MIN_RECENCY or importance < MIN_IMPORTANCE:
                    ops.append(PutOp(self._namespace(layer.name), item.key, None))
                    removed.append(item.key)
                elif layer.promote_at is not None and importance >= layer.promote_at and entered_before:
                    ops.append(PutOp(self._namespace(layer.name), item.key, None))
                    target = LAYERS[position + 1].name
                    ops.append(PutOp(self._namespace(target), item.key, {**value, "entered": day.isoformat()}))
                    promoted.append(item.key)
                elif value != item.value:
                    ops.append(PutOp(self._namespace(layer.name), item.key, value))
        if ops:
            self.store.batch(ops)  # one transaction, and the texts keep their vectors
        return Aged(promoted, removed)

    def layer_of(self, key: str) -> str | None:
        for layer in LAYERS:
            if self.store.get(self._namespace(layer.name), key) is not None:
                return layer.name
        return None
