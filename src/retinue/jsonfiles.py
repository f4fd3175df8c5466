"""Reading and writing the JSON files users hand in and runs keep, with errors that name the file."""

import json
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


def write_json_atomic(path: Path, data: Any) -> None:
    """Write then rename: a process killed mid-write never leaves a torn file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
