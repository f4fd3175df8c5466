"""Reading and writing the JSON files users hand in and runs keep, with errors that name the file."""

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError


def read_json(path: Path, label: str, missing: str | None = None) -> Any:
    """Parse `path`; `label` says which input it is (e.g. "--schema"), `missing` replaces the not-found text."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RetinueError(missing or f"{label}: file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RetinueError(f"{label}: {path} is not valid JSON: {error}") from None


def read_jsonl(path: Path, label: str, missing_ok: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file (gzipped if it ends in .gz); a
    bad line names its number. A missing file is an error naming `label`, or nothing when `missing_ok`."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            lines = list(handle)
    except FileNotFoundError:
        if missing_ok:
            return
        raise RetinueError(f"{label}: file not found: {path}") from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise RetinueError(f"cannot read {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            raise RetinueError(f"{path}, line {number}: {error}") from None
        yield number, record


def write_json_atomic(path: Path, data: Any) -> None:
    """Write then rename: a process killed mid-write never leaves a torn file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_json_text(data), encoding="utf-8")
    tmp.replace(path)


def create_json_exclusive(path: Path, data: Any) -> None:
    """Write `path` whole, only if it does not exist yet (FileExistsError otherwise): written aside, then
    hard-linked into place, so that of two processes one wins and no reader ever sees it empty or torn."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
    tmp.write_text(_json_text(data), encoding="utf-8")
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def _json_text(data: Any) -> str:
    """How retinue writes a JSON file: indented, anything unknown as its string, a final newline."""
    return json.dumps(data, indent=2, default=str) + "\n"
