"""`retinue plan-training` on the measured 16-node cluster, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "pipette"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not SHARED.is_dir(), reason="the shared pipette data is not beside the repository"),
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", "plan-training", *args], capture_output=True, text=True, timeout=300
    )


def test_plan_training_ranks_plans_that_fit_and_writes_what_launches_them(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = _cli(
        "--preset",
        "gpt3-13b",
        "--cluster",
        str(SHARED / "time_1.json"),
        "--global-batch",
        "512",
        "--top",
        "3",
        "--steps",
        "300",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["plans"]) == 3
    for entry in plan["plans"]:
        assert entry["tp"] * entry["pp"] * entry["dp"] == 128 and entry["memory_gb"] <= 80
        assert "--tensor-model-parallel-size" in entry["megatron_args"] and len(entry["node_order"]) == 16
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best_simulated_seconds"] <= metrics["megatron_choice_simulated_seconds"] + 1e-9
    assert len((out / "rankfile.txt").read_text().splitlines()) == 128
    assert (out / "bandwidth.png").stat().st_size > 5000 and (out / "mapping.png").stat().st_size > 5000
    assert "--tensor-model-parallel-size" in done.stdout


def test_bad_plan_training_input_exits_1_naming_the_problem(tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.json"
    matrix.write_text(json.dumps({"0": {"gpus": ["a", "b"], "bandwidth": [[1, 2, 3], [1, 2, 3]]}}))
    for args, message in [
        (["--preset", "gpt3-13b", "--cluster", str(matrix)], "not a square matrix"),
        (["--preset", "gpt5", "--cluster", str(SHARED / "time_0.json")], "unknown model 'gpt5'"),
        (["--preset", "gpt3-13b", "--cluster", str(SHARED / "time_0.json"), "--gpu-mem", "4"], "fits nowhere"),
    ]:
        done = _cli(*args, "--out", str(tmp_path / "run"))
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "run").exists()
