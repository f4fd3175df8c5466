"""What the agents learn, kept in the run's store: tips, Reflexion's reflections and raw trajectories.

Each kind lives in namespaces per game, per level and globally, e.g. ("tips", "game", "L1-train-000"),
("tips", "level", "1"), ("tips", "global"). Items are {"text": ...} under ordered keys (note-000001, ...),
so reading a namespace gives its notes in the order they were written.
"""

from langgraph.store.base import BaseStore, Item

from retinue.memory.namespaces import tips_game, tips_global, tips_level

KINDS = ("tips", "reflections", "trajectories")
MAX_NOTES = 200


def read(store: BaseStore, namespace: tuple[str, ...]) -> list[str]:
    """The notes of one namespace (or of every namespace under a prefix), in the order written."""
    items = store.search(namespace, limit=MAX_NOTES)
    return [str(item.value["text"]) for item in sorted(items, key=lambda item: (item.namespace, item.key))]


def _own_items(store: BaseStore, namespace: tuple[str, ...]) -> list[Item]:
    """The items of `namespace` itself (a search also returns those of namespaces below it), by key."""
    found = (item for item in store.search(namespace, limit=MAX_NOTES) if item.namespace == namespace)
    return sorted(found, key=lambda item: item.key)


def replace(store: BaseStore, namespace: tuple[str, ...], notes: list[str]) -> None:
    """Make `notes` the whole content of `namespace` (an introspector's merged tips)."""
    for item in _own_items(store, namespace):
        store.delete(namespace, item.key)
    for i, note in enumerate(notes):
        store.put(namespace, f"note-{i:06d}", {"text": note})


def append(store: BaseStore, namespace: tuple[str, ...], note: str, keep: int) -> None:
    """Add `note` after the others and keep only the `keep` most recent."""
    items = _own_items(store, namespace)
    number = int(items[-1].key.removeprefix("note-")) + 1 if items else 0
    store.put(namespace, f"note-{number:06d}", {"text": note})
    for old in items[: max(0, len(items) + 1 - keep)]:
        store.delete(namespace, old.key)


def for_game(store: BaseStore, kind: str, game: str, level: int | None) -> list[str]:
    """What an agent playing `game` is given: the game's own notes, its level's (every level's when its own
    level has none), then the global ones; duplicates dropped."""
    own_level = read(store, tips_level(kind, level)) if level is not None else []
    levels = own_level or read(store, (kind, "level"))
    found = read(store, tips_game(kind, game)) + levels + read(store, tips_global(kind))
    return list(dict.fromkeys(found))
