"""A persistent response cache: identical calls (provider, model, parameters, messages) replay from SQLite,
or from PostgreSQL when a run names a `--db` server.

It plugs into LangChain's own cache hook (`BaseChatModel(cache=...)`), so every chat model in the seam
is cached the same way, whether a node calls `invoke` or LangGraph streams the call. Entries are plain
JSON (content and token usage), never pickles. A replayed message carries `response_metadata["cache_hit"]`
so that usage accounting can tell a replay from a model call.
"""

import hashlib
import json
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation

from retinue.sqlitefiles import connect_shared


class _JSONResponseCache(BaseCache):
    """Responses keyed by sha256 of (model parameters, serialised messages), stored as JSON, shared across runs.
    A backend supplies `_fetch`, `_store`, `_delete_all` and `_count`; calls are serialised by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        with self._lock:
            stored = self._fetch(self._key(prompt, llm_string))
        if stored is None:
            return None
        return [_generation_from_json(entry) for entry in json.loads(stored)]

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        entries = [_generation_to_json(generation) for generation in return_val]
        with self._lock:
            self._store(self._key(prompt, llm_string), llm_string, json.dumps(entries))

    def clear(self, **kwargs: Any) -> None:
        with self._lock:
            self._delete_all()

    def __len__(self) -> int:
        with self._lock:
            return self._count()

    def _fetch(self, key: str) -> str | None:
        raise NotImplementedError

    def _store(self, key: str, llm_string: str, generations: str) -> None:
        raise NotImplementedError

    def _delete_all(self) -> None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    llm TEXT NOT NULL,
    generations TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


class SQLiteResponseCache(_JSONResponseCache):
    """The response cache in a SQLite file (WAL, so several processes can share it)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = connect_shared(path)
        self._conn.execute(_SQLITE_SCHEMA)
        self._conn.commit()

    def _fetch(self, key: str) -> str | None:
        row = self._conn.execute("SELECT generations FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _store(self, key: str, llm_string: str, generations: str) -> None:
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses (key, llm, generations) VALUES (?, ?, ?)",
                (key, llm_string, generations),
            )

    def _delete_all(self) -> None:
        with self._conn:
            self._conn.execute("DELETE FROM responses")

    def _count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS retinue_responses (
    key TEXT PRIMARY KEY,
    llm TEXT NOT NULL,
    generations TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class PostgresResponseCache(_JSONResponseCache):
    """The response cache in the table `retinue_responses` of a PostgreSQL database, shared by every worker
    that names it with `--db`."""

    def __init__(self, url: str) -> None:
        from retinue.postgres import advisory_lock, connect

        super().__init__()
        self.url = url
        self._conn = connect(url)
        # The model that holds the cache lives as long as its run; the connection closes with it.
        self._closer = weakref.finalize(self, self._conn.close)
        with advisory_lock(self._conn, "retinue response cache table"):
            self._conn.execute(_POSTGRES_SCHEMA)

    def _fetch(self, key: str) -> str | None:
        row = self._conn.execute("SELECT generations FROM retinue_responses WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row["generations"])

    def _store(self, key: str, llm_string: str, generations: str) -> None:
        self._conn.execute(
            "INSERT INTO retinue_responses (key, llm, generations) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET llm = EXCLUDED.llm, generations = EXCLUDED.generations",
            (key, llm_string, generations),
        )

    def _delete_all(self) -> None:
        self._conn.execute("DELETE FROM retinue_responses")

    def _count(self) -> int:
        row = self._conn.execute("SELECT COUNT(*) AS n FROM retinue_responses").fetchone()
        return int(row["n"]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._closer()


def open_response_cache(db: str | None, sqlite_path: Path) -> _JSONResponseCache:
    """The response cache on the PostgreSQL server at `db`, or in the SQLite file `sqlite_path`."""
    return PostgresResponseCache(db) if db else SQLiteResponseCache(sqlite_path)


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
