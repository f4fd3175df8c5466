import subprocess
import sys
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory


def test_create_writes_config_and_record(tmp_path: Path) -> None:
    run = RunDirectory.create("ask", {"prompts": ["p"]}, None, tmp_path)
    assert run.path.parent == tmp_path and "-ask-" in run.path.name
    assert run.config() == {"command": "ask", "prompts": ["p"]}
    assert run.record()["status"] == "running"


def test_refuses_to_overwrite_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    with pytest.raises(RetinueError, match="already holds files"):
        RunDirectory.create("ask", {}, tmp_path / "used", tmp_path)


def test_an_out_that_cannot_be_a_run_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(RetinueError, match="is a file, not a folder for the run"):
        RunDirectory.create("ask", {}, tmp_path / "file", tmp_path)
    with pytest.raises(RetinueError, match="cannot make the run folder .*: Not a directory"):
        RunDirectory.create("ask", {}, tmp_path / "file" / "run", tmp_path)


def test_of_two_runs_started_on_one_out_at_once_the_second_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = RunDirectory.create("ask", {"prompts": ["p"]}, tmp_path / "run", tmp_path)
    # The second command looked while the folder was still empty, then the first claimed it:
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(()))
    with pytest.raises(RetinueError, match="already holds a run; give a new --out, or --resume"):
        RunDirectory.create("ask", {"prompts": ["q"]}, tmp_path / "run", tmp_path)
    assert first.config()["prompts"] == ["p"]  # the first run's files are untouched
    assert first.record()["status"] == "running"  # claimed with its whole record, never an empty run.json


def test_open_rejects_folders_that_are_not_runs(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="not a run directory"):
        RunDirectory.open(tmp_path)
    (tmp_path / "run.json").write_text("{broken")
    with pytest.raises(RetinueError, match="not valid JSON"):
        RunDirectory.open(tmp_path)


def test_a_run_whose_process_died_reads_as_stopped(tmp_path: Path) -> None:
    run = RunDirectory.create("ask", {}, None, tmp_path)
    assert run.status() == "running"  # this process is alive
    run.update_record(pid=2**22 + 12345)  # above Linux's pid_max: no such process
    assert run.status() == "stopped"
    run.update_record(status="completed")
    assert run.status() == "completed"


def test_open_for_resume_checks_the_command(tmp_path: Path) -> None:
    run = RunDirectory.create("ask", {}, tmp_path / "run", tmp_path)
    assert RunDirectory.open(run.path, command="ask") == run
    with pytest.raises(RetinueError, match="is a 'ask' run, not a 'backtest' run"):
        RunDirectory.open(run.path, command="backtest")


def test_a_run_another_process_is_running_cannot_be_resumed(tmp_path: Path) -> None:
    run = RunDirectory.create("ask", {}, tmp_path / "run", tmp_path)
    assert RunDirectory.resume(run.path, "ask") == run  # running, but in this process
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run.update_record(pid=other.pid)
        with pytest.raises(RetinueError, match=f"still running in process {other.pid}: wait for it, or stop it"):
            RunDirectory.resume(run.path, "ask")
    finally:
        other.kill()
        other.wait()
    assert RunDirectory.resume(run.path, "ask").status() == "stopped"  # its process is gone: resumable
