"""Runs whose checkpoints and response cache live on a real PostgreSQL server (`--db`), as workers on
several machines would share them. The server is the one .ci/run starts; without it these tests skip."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from retinue.cli import app

pytestmark = pytest.mark.e2e
runner = CliRunner()


def _ask(tmp_path: Path, url: str, out: str, *extra: str) -> dict:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": ["the answer"]}))
    args = ["ask", "hello", "--llm", "scripted", "--script", str(script), "--db", url, "--out", str(tmp_path / out)]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / out / "metrics.json").read_text())


def test_checkpoints_and_replies_are_kept_on_the_server_and_shared_by_another_home(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, retinue_home: Path
) -> None:
    first = _ask(tmp_path, postgres_url, "first")
    assert first["llm_calls"] == 1 and first["cache_hits"] == 0
    run = tmp_path / "first"
    assert json.loads((run / "config.json").read_text())["db"] == postgres_url
    assert not (run / "checkpoints.sqlite").exists() and not (retinue_home / "response_cache.sqlite").exists()
    thread = json.loads((run / "run.json").read_text())["thread_id"]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = %s", (thread,)).fetchone()[0] > 0
        assert conn.execute("SELECT COUNT(*) FROM retinue_responses").fetchone()[0] == 1

    # Another machine: a different RETINUE_HOME, the same server. The reply replays from the shared cache.
    monkeypatch.setenv("RETINUE_HOME", str(tmp_path / "other-home"))
    second = _ask(tmp_path, postgres_url, "second")
    assert second["llm_calls"] == 0 and second["cache_hits"] == 1

    # Resuming the finished run reads its final state back from the server.
    resumed = runner.invoke(app, ["ask", "--resume", str(run)])
    assert resumed.exit_code == 0 and "the answer" in resumed.stdout


def test_a_bad_db_fails_before_any_run_directory_is_made(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "retinue.cli", "backtest", "--db", "postgresql://me:pw@127.0.0.1/x"]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "keep the password out of the URL" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_worker_waiting_for_the_setup_lock_does_not_block_the_holders_concurrent_index(postgres_url: str) -> None:
    """The holder of the table-setup lock runs CREATE INDEX CONCURRENTLY (as PostgresSaver.setup does), which
    waits for every running statement; a worker waiting for the lock must not be one (this deadlocked)."""
    import threading
    import time

    from retinue.postgres import advisory_lock, connect

    with connect(postgres_url) as holder, connect(postgres_url) as waiter:
        holder.execute("CREATE TABLE lock_probe (id int)")
        waited: list[float] = []
        with advisory_lock(holder, "probe"):

            def wait_for_lock() -> None:
                started = time.monotonic()
                with advisory_lock(waiter, "probe"):
                    waited.append(time.monotonic() - started)

            thread = threading.Thread(target=wait_for_lock)
            thread.start()
            time.sleep(0.3)  # the waiter is now waiting
            holder.execute("CREATE INDEX CONCURRENTLY lock_probe_id ON lock_probe (id)")
            assert not waited  # it waited while the lock was held
        thread.join(timeout=10)
        assert waited and not thread.is_alive()
