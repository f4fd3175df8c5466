import multiprocessing
from pathlib import Path
from typing import Any

from retinue.sqlitefiles import connect_shared

PROCESSES, ROUNDS = 3, 60


def _open_each_fresh_file(folder: str, barrier: Any, failures: Any) -> None:
    for round_ in range(ROUNDS):
        barrier.wait()  # every process opens the same new file at once
        try:
            conn = connect_shared(Path(folder) / f"{round_}.sqlite")
            conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
            conn.commit()
            conn.close()
        except Exception as error:  # noqa: BLE001 - counted and reported by the test
            failures.put(f"round {round_}: {error}")


def test_processes_opening_one_new_file_together_all_get_it_in_wal_mode(tmp_path: Path) -> None:
    # Without the retry, about one open in ten failed here with "database is locked" (measured).
    context = multiprocessing.get_context("spawn")
    barrier, failures = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_open_each_fresh_file, args=(str(tmp_path), barrier, failures)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert errors == [] and all(w.exitcode == 0 for w in workers)
    assert connect_shared(tmp_path / "0.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
