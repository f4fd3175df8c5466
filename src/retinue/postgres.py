"""Where a run keeps its shared state: SQLite files in the run directory (the default) or a PostgreSQL
server named by `--db postgresql://USER@HOST:PORT/DBNAME`, so that workers on several machines share the
LangGraph checkpoints and the response cache.

A URL never carries a password: run.json and config.json record it, and libpq reads the password from
PGPASSWORD or ~/.pgpass instead.
"""

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from retinue.errors import RetinueError

if TYPE_CHECKING:
    import psycopg

_SCHEMES = ("postgresql", "postgres")
LOCK_TIMEOUT_SECONDS = 300


def check_db_url(url: str | None) -> str | None:
    """`url` if it names a reachable PostgreSQL database and holds no password; None stays None (SQLite)."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        _port = parts.port  # a malformed port raises here
    except ValueError as error:
        raise RetinueError(f"--db {url!r} is not a URL: {error}") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise RetinueError(f"--db {url!r}: give a PostgreSQL URL, postgresql://USER@HOST:PORT/DBNAME")
    if parts.password is not None:
        raise RetinueError(
            "--db: keep the password out of the URL (runs record it in config.json); set PGPASSWORD or use ~/.pgpass"
        )
    connect(url).close()  # an unreachable server fails here, before any run directory is made
    return url


def connect(url: str) -> "psycopg.Connection[dict[str, Any]]":
    """An autocommit connection with rows as dicts, as LangGraph's PostgresSaver expects."""
    import psycopg
    from psycopg.rows import dict_row

    try:
        return psycopg.Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise RetinueError(f"cannot reach the PostgreSQL database {url}: {reason}") from None


def _try_lock(conn: "psycopg.Connection[Any]", key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,)).fetchone()
    return bool(row["taken"] if isinstance(row, dict) else row[0])  # type: ignore[index]


@contextmanager
def advisory_lock(conn: "psycopg.Connection[Any]", name: str) -> Iterator[None]:
    """A server-wide lock named `name`, so that workers starting at once create tables one at a time.

    Taken by polling pg_try_advisory_lock rather than waiting in pg_advisory_lock: the holder's table setup
    runs CREATE INDEX CONCURRENTLY, which waits for every running statement to end, and a worker blocked
    inside pg_advisory_lock is one, so the two deadlocked (seen in a four-cell sweep)."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while not _try_lock(conn, key):
        if time.monotonic() > deadline:
            raise RetinueError(f"waited {LOCK_TIMEOUT_SECONDS} s for the PostgreSQL lock {name!r}")
        time.sleep(0.05)
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
