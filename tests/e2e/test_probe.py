"""`retinue probe` with the embedded model, for every role: real cases from the data root, real prompts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retinue.probes import ROLES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEYS = {"accuracy", "accuracy_ci_low", "accuracy_ci_high", "chance", "position_bias_rate", "flip_rate", "cases"}


@pytest.mark.parametrize("role", ROLES)
def test_a_probe_runs_for_the_role_with_the_embedded_model(role: str, tmp_path: Path, model_home: Path) -> None:
    run = tmp_path / "probe"
    command = [sys.executable, "-m", "retinue.cli", "probe", "--role", role, "--pairs", "1", "--orders", "2"]
    done = subprocess.run(
        [*command, "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "RETINUE_HOME": str(model_home)},
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= KEYS and metrics["cases"] == 2 and metrics["asked"] == 4
    assert metrics["model"] == "embedded agent-gemma"  # the default embedded model
    assert 0 <= metrics["accuracy_ci_low"] <= metrics["accuracy"] <= metrics["accuracy_ci_high"] <= 1
    assert 0 < metrics["chance"] < 1 and metrics["fallback_rate"] == 0.0
    answers = [json.loads(line) for line in (run / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 4 and all(a["value"] in a["order"] for a in answers)
    assert f"{role}: " in done.stdout and ("no skill shown" in done.stdout or "skill shown" in done.stdout)
    usage = json.loads((run / "usage.json").read_text())
    assert usage["total"]["calls"] + usage["total"]["cache_hits"] >= 4
