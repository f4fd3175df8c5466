"""Run directories: every run keeps its config, checkpoints, store, usage, metrics and a run.json record.

```
RUN_DIR/
  config.json        what the run was asked to do (enough to rebuild it for --resume)
  checkpoints.sqlite LangGraph checkpoints, one thread per run (unless config.json names a PostgreSQL `db`)
  store/             the run's FaissStore memory
  usage.json         calls, tokens, cache hits, fallbacks and latency, per role
  metrics.json       flat results with units in the names
  run.json           command, status, versions, timings, error
```
"""

import logging
import os
import platform
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from retinue.errors import RetinueError
from retinue.jsonfiles import create_json_exclusive, read_json, write_json_atomic

log = logging.getLogger(__name__)

Status = Literal["running", "completed", "failed", "interrupted"]
# Runs made with --out outside the runs folder, one path a line, so that `retinue runs list` finds them.
ELSEWHERE = "runs-elsewhere.txt"
_VERSIONED = ("retinue", "langgraph", "langchain-core", "llama_cpp_python", "faiss-cpu", "torch")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def _read_record(path: Path) -> dict[str, Any]:
    data = read_json(path, "run directory", missing=f"{path.parent} is not a run directory (no {path.name})")
    if not isinstance(data, dict):
        raise RetinueError(f"{path} should hold a JSON object")
    return data


@dataclass(frozen=True)
class RunDirectory:
    """A run's folder and the files in it."""

    path: Path

    @classmethod
    def create(cls, command: str, config: dict[str, Any], out: Path | None, root: Path) -> "RunDirectory":
        """A new run directory: `out` if given (must be empty or new), else a fresh one under `root`."""
        if out is None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            out = root / f"{stamp}-{command.replace(' ', '-')}-{secrets.token_hex(3)}"
        if out.exists() and not out.is_dir():
            raise RetinueError(f"--out: {out} is a file, not a folder for the run")
        if out.exists() and any(out.iterdir()):
            raise RetinueError(f"{out} already holds files; give a new --out, or --resume {out} to continue it")
        record = {
            "command": command,
            # unique, not just the folder's name: runs in different folders may share one database
            "thread_id": f"{out.name}-{secrets.token_hex(6)}",
            "status": "running",
            "started_at": datetime.now(UTC).isoformat(),
            "argv": sys.argv,
            "pid": os.getpid(),
            "versions": package_versions(),
        }
        try:
            out.mkdir(parents=True, exist_ok=True)
            # Claim the folder with the whole record at once: of two commands started on one --out at once,
            # the second stops here, and no reader (`runs list`, a watcher) ever finds run.json empty.
            create_json_exclusive(out / "run.json", record)
        except FileExistsError:
            raise RetinueError(
                f"{out} already holds a run; give a new --out, or --resume {out} to continue it"
            ) from None
        except OSError as error:
            raise RetinueError(f"--out: cannot make the run folder {out}: {error.strerror}") from None
        run = cls(out)
        _list_elsewhere(out, root)
        write_json_atomic(run.config_path, {"command": command, **config})
        return run

    @classmethod
    def open(cls, path: Path, command: str | None = None) -> "RunDirectory":
        """An existing run; with `command`, it must be a run of that command (as for --resume)."""
        run = cls(path)
        recorded = run.record().get("command")  # fails clearly when this is not a run directory
        if command is not None and recorded != command:
            raise RetinueError(f"{path} is a '{recorded}' run, not a '{command}' run")
        return run

    @classmethod
    def resume(cls, path: Path, command: str) -> "RunDirectory":
        """A run of `command` to continue (`--resume`): not one that another process is still running."""
        run = cls.open(path, command)
        pid = run.record().get("pid")
        if run.status() == "running" and pid != os.getpid():
            raise RetinueError(f"{path} is still running in process {pid}: wait for it, or stop it (kill {pid}) first")
        return run

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def record_path(self) -> Path:
        return self.path / "run.json"

    @property
    def checkpoints_path(self) -> Path:
        return self.path / "checkpoints.sqlite"

    @property
    def database(self) -> str | None:
        """The PostgreSQL URL holding this run's checkpoints, or None for checkpoints.sqlite."""
        url = self.config().get("db")
        return str(url) if url else None

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    @property
    def usage_path(self) -> Path:
        return self.path / "usage.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    def config(self) -> dict[str, Any]:
        return _read_record(self.config_path)

    def record(self) -> dict[str, Any]:
        return _read_record(self.record_path)

    def usage(self) -> dict[str, Any]:
        return _read_record(self.usage_path) if self.usage_path.exists() else {}

    def metrics(self) -> dict[str, Any]:
        return _read_record(self.metrics_path) if self.metrics_path.exists() else {}

    def status(self) -> str:
        """The recorded status, or "stopped" for a run whose process died without saying so (SIGKILL)."""
        record = self.record()
        status = str(record.get("status"))
        if status == "running" and not _alive(record.get("pid")):
            return "stopped"
        return status

    def update_record(self, **fields: Any) -> dict[str, Any]:
        record = {**self.record(), **fields}
        write_json_atomic(self.record_path, record)
        return record

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json_atomic(self.metrics_path, metrics)


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_runs(root: Path) -> list[RunDirectory]:
    """Run directories directly under `root` and those made elsewhere (`--out`) that `root` lists,
    newest first."""
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if (p / "run.json").is_file()]
    listed = root / ELSEWHERE
    if listed.is_file():
        folders += [Path(line) for line in listed.read_text(encoding="utf-8").splitlines() if line.strip()]
    runs = [RunDirectory(p) for p in dict.fromkeys(f.resolve() for f in folders) if (p / "run.json").is_file()]
    return sorted(runs, key=_started, reverse=True)


def _started(run: RunDirectory) -> str:
    try:
        return str(run.record().get("started_at") or "")
    except RetinueError:  # a run.json being written or broken: listed last
        return ""


def _list_elsewhere(out: Path, root: Path) -> None:
    """Note a run made outside `root` in root's list, so that `retinue runs list` shows it."""
    if out.resolve().parent == root.resolve():
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        with (root / ELSEWHERE).open("a", encoding="utf-8") as listed:  # one short line: an atomic append
            listed.write(f"{out.resolve()}\n")
    except OSError as error:  # the run itself is fine; only the listing misses it
        log.warning("cannot list %s in %s: %s", out, root / ELSEWHERE, error.strerror)
