"""Kill a process writing to FaissStore with SIGKILL mid-stream; every acknowledged item survives."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from retinue.memory import DIMENSIONS, FaissStore, MiniLMEmbeddings

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_sigkill_mid_stream_loses_no_acknowledged_write(tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.store_writer", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert writer.stdout is not None
    acked: list[str] = []
    for line in writer.stdout:
        if line.startswith("ack "):
            acked.append(line.split()[1])
        if len(acked) >= 40:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    acked += [line.split()[1] for line in writer.stdout.read().splitlines() if line.startswith("ack ")]
    writer.stdout.close()

    with FaissStore(
        tmp_path / "store", index={"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]}
    ) as store:
        stored = {item.key for item in store.search(("notes",), limit=10_000)}
        assert set(acked) <= stored
        assert len(stored) - len(acked) <= 1  # at most the put that was in flight
        hits = store.search(("notes",), query="note 7 about trading day 7", limit=1)
        assert hits[0].key == "k7"
        assert len(store._vectors) == len(stored)  # the index was rebuilt to match the database


def test_a_store_open_in_this_process_finds_what_another_process_wrote(tmp_path: Path) -> None:
    """The chat terminal and the chat page share one store: each sees the other's writes in its searches."""
    index = {"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]}
    with FaissStore(tmp_path / "store", index=index) as store:
        store.put(("notes", "mine"), "own", {"text": "a note about the weather"})
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.store_writer", str(tmp_path / "store")],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert writer.stdout is not None
        acked = 0
        for line in writer.stdout:
            acked += line.startswith("ack ")
            if acked >= 20:
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        hits = store.search(("notes",), query="note 7 about trading day 7", limit=1)
        assert hits[0].key == "k7" and hits[0].score is not None  # found by vector search, not listed unscored
        assert len(store._vectors) == len(store.search(("notes",), limit=10_000))
