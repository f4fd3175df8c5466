"""A persistent response cache: identical calls (provider, model, parameters, messages) replay from SQLite.

It plugs into LangChain's own cache hook (`BaseChatModel(cache=...)`), so every chat model in the seam
is cached the same way, whether a node calls `invoke` or LangGraph streams the call. Entries are plain
JSON (content and token usage), never pickles. A replayed message carries `response_metadata["cache_hit"]`
so that usage accounting can tell a replay from a model call.
"""

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    llm TEXT NOT NULL,
    generations TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


class SQLiteResponseCache(BaseCache):
    """Responses keyed by sha256 of (model parameters, serialised messages), shared across runs."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self._conn.commit()

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT generations FROM responses WHERE key = ?", (self._key(prompt, llm_string),)
            ).fetchone()
        if row is None:
            return None
        return [_generation_from_json(entry) for entry in json.loads(row[0])]

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        entries = [_generation_to_json(generation) for generation in return_val]
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses (key, llm, generations) VALUES (?, ?, ?)",
                (self._key(prompt, llm_string), llm_string, json.dumps(entries)),
            )

    def clear(self, **kwargs: Any) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM responses")

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _generation_to_json(generation: Generation) -> dict[str, Any]:
    usage = None
    if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
        usage = generation.message.usage_metadata
    return {"text": generation.text, "usage": usage}


def _generation_from_json(entry: dict[str, Any]) -> ChatGeneration:
    message = AIMessage(
        content=entry["text"],
        usage_metadata=entry.get("usage"),
        response_metadata={"cache_hit": True},
    )
    return ChatGeneration(message=message)
