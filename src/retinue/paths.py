"""Where retinue keeps what it makes: models, caches and runs live under RETINUE_HOME."""

import os
from pathlib import Path


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
