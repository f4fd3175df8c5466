"""`retinue train zip-select` on the shared ShareGPT pool, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

POOL = Path(__file__).resolve().parents[3] / "shared" / "data" / "text" / "zip_pool" / "pool_sharegpt.json"
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not POOL.is_file(), reason="the shared ZIP pool is not there")]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", "train", "zip-select", *args], capture_output=True, text=True, timeout=300
    )


def test_zip_select_writes_a_less_redundant_selection(tmp_path: Path) -> None:
    out = tmp_path / "zip"
    done = _cli("--pool", str(POOL), "--budget", "100", "--k1", "400", "--k2", "100", "--k3", "50", "--out", str(out))
    assert done.returncode == 0, done.stderr
    selected = json.loads((out / "selected.json").read_text())
    assert len(selected) == 100 and all("conversations" in item for item in selected)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["selected_compression_ratio"] < metrics["random_compression_ratio"]
    assert "selected_compression_ratio" in done.stdout


def test_bad_zip_input_exits_1(tmp_path: Path) -> None:
    done = _cli("--pool", str(POOL), "--budget", "999999", "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and "--budget" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()
