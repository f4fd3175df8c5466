"""Opening the SQLite files that several processes share (the response cache, memory stores, chat sessions)."""

import random
import sqlite3
import time
from pathlib import Path

BUSY_SECONDS = 30.0


def connect_shared(path: Path | str, timeout: float = BUSY_SECONDS) -> sqlite3.Connection:
    """A connection in WAL mode, waiting up to `timeout` seconds for other processes' locks.

    Switching a new file to WAL needs an exclusive lock that SQLite refuses at once ("database is locked"),
    busy timeout or not, while another process is switching it too: the sweep's cells open one fresh
    response cache together. The switch is retried, with a little jitter, until `timeout`."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(random.uniform(0.01, 0.05))  # noqa: S311 - jitter, not security
