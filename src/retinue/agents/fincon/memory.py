"""What FinCon's agents remember, in the run's store.

- Each text analyst keeps a FinMem layered memory of its source per ticker: news enters the short layer,
  10-Qs and earnings calls the mid layer, 10-Ks the long layer, long documents as chunks. The initial
  importance is the mean of FinMem's sampled values {40, 60, 80} under each layer's probabilities
  (short .50/.45/.05, mid .05/.45/.50, long .05/.05/.90): 51, 69 and 77.
- The manager keeps an episodic memory: each decision with what the portfolio earned the next day.
- Feedback: when a day's decisions made money, every memory the agents recalled that day gains importance.

Keys are derived from the content, so a day replayed after a crash adds nothing twice.

| namespace | key | value |
|---|---|---|
| ("fincon", "<role>_analyst", TICKER, layer) | content hash | a source memory |
| ("fincon", "manager", layer) | "<day> <ticker>" | an episode |
| ("fincon", "day", DAY) | "recalled" / "decided" | which memories each agent used; the decisions |
"""

import hashlib
from datetime import date

from langgraph.store.base import BaseStore

from retinue.datasets.market_text import EARNINGS_CALL, TextItem
from retinue.memory.layered import LayeredMemory, NewMemory, Recalled
from retinue.memory.namespaces import FINCON_MANAGER, fincon_analyst, fincon_day

KIND_LAYER = {"news": "short", "10-Q": "mid", EARNINGS_CALL: "mid", "10-K": "long"}
INITIAL_IMPORTANCE = {"short": 51.0, "mid": 69.0, "long": 77.0}
CHUNK_CHARS = 600


def analyst_memory(store: BaseStore, role: str, ticker: str) -> LayeredMemory:
    return LayeredMemory(store, fincon_analyst(role, ticker))


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Whitespace-bounded pieces of at most about `size` characters."""
    pieces, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*pieces, current] if current else pieces


def as_memories(item: TextItem) -> list[NewMemory]:
    """A text item as memories dated by the item: one per chunk, in the layer of its kind."""
    layer = KIND_LAYER.get(item.kind, "short")
    memories = []
    for number, piece in enumerate(chunks(item.text)):
        key = hashlib.sha256(f"{item.day}|{item.kind}|{item.source}|{number}|{piece}".encode()).hexdigest()[:32]
        label = f"{item.kind} {item.day}" + (f" part {number + 1}" if number else "")
        memories.append(NewMemory(key, f"[{label}] {piece}", item.day, INITIAL_IMPORTANCE[layer], layer))
    return memories


def record_day(store: BaseStore, day: date, recalled: dict[str, list[str]], decided: dict[str, dict[str, str]]) -> None:
    store.put(fincon_day(day), "recalled", {"keys": recalled})
    store.put(fincon_day(day), "decided", {"decisions": decided})


def learn_from_day(store: BaseStore, day: date, outcome: float, today: date) -> None:
    """After `day`'s decisions earned `outcome` (a log return), seen on `today`: the manager remembers
    each decision with its outcome, and a profitable day rewards every memory recalled for it."""
    decided = store.get(fincon_day(day), "decided")
    recalled = store.get(fincon_day(day), "recalled")
    if decided is None or recalled is None:
        return
    manager = LayeredMemory(store, FINCON_MANAGER)
    episodes = [
        NewMemory(
            f"{day.isoformat()} {ticker}",
            f"{day}: {decision['action']} {ticker} ({decision['reasons']}); "
            f"the next day the portfolio returned {100 * outcome:+.2f}%",
            today,
            INITIAL_IMPORTANCE["mid"],
            "mid",
        )
        for ticker, decision in sorted(decided.value["decisions"].items())
    ]
    manager.add_new(episodes)
    if outcome > 0:
        for owner, keys in recalled.value["keys"].items():
            memory = LayeredMemory(store, tuple(owner.split("/")))
            for key in keys:
                if memory.layer_of(key) is not None:  # it may have been forgotten since
                    memory.reward(key, today)


def owner_label(memory: LayeredMemory) -> str:
    """The owner as one string (labels hold no "/"), as kept in a day's "recalled" record."""
    return "/".join(memory.owner)


def recall_episodes(store: BaseStore, query: str, day: date, k: int) -> list[Recalled]:
    manager = LayeredMemory(store, FINCON_MANAGER)
    manager.advance(day)
    return manager.retrieve(query, day, k=k)
