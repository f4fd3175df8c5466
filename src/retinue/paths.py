"""Where retinue keeps what it makes: models, caches and runs live under RETINUE_HOME."""

import os
from pathlib import Path

from retinue.errors import RetinueError


def retinue_home() -> Path:
    """RETINUE_HOME if set, else ~/.cache/retinue; created on first use."""
    home = Path(os.environ.get("RETINUE_HOME") or Path.home() / ".cache" / "retinue").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def runs_root() -> Path:
    """The default parent folder of run directories."""
    root = retinue_home() / "runs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def response_cache_path() -> Path:
    """The shared SQLite response cache that makes reruns replay without calling the model."""
    return retinue_home() / "response_cache.sqlite"


def data_root(explicit: Path | None = None) -> Path:
    """The data root (holding market/, metaqa/, ...): --data-dir, else $RETINUE_DATA_DIR, else
    ../shared/data beside the repository when it exists."""
    if explicit is not None:
        candidate = explicit.expanduser()
    elif os.environ.get("RETINUE_DATA_DIR"):
        candidate = Path(os.environ["RETINUE_DATA_DIR"]).expanduser()
    else:
        candidate = Path(__file__).resolve().parents[3] / "shared" / "data"
        if not candidate.is_dir():
            raise RetinueError(
                "no data root: pass --data-dir DIR or set RETINUE_DATA_DIR to the folder that holds market/, "
                "metaqa/, ... (laid out as in shared/data/README.md)"
            )
    if not candidate.is_dir():
        raise RetinueError(f"data root {candidate} does not exist")
    return candidate
