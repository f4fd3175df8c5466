"""`retinue train synthesize` end to end with the embedded teacher, on a few seeds."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retinue.training import synthesizrr as synth

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "sentiment").is_dir(), reason="the shared sentiment data is not there"),
]


@pytest.mark.parametrize("method", ["synthesizrr", "few-shot"])
def test_synthesis_with_the_embedded_model(tmp_path: Path, model_home: Path, method: str) -> None:
    out = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "retinue.cli",
            "train",
            "synthesize",
            "--method",
            method,
            "--seeds-per-class",
            "1",
            "--corpus-size",
            "200",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={"RETINUE_HOME": str(model_home), "PATH": "/usr/bin:/bin", "RETINUE_DATA_DIR": str(SHARED)},
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (out / "synthetic.jsonl").read_text().splitlines()]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["llm_calls"] >= 3 and metrics["examples"] == len(rows) >= 1
    assert all(r["label"] in ("negative", "neutral", "positive") and len(r["text"]) >= 15 for r in rows)
    assert all(bool(r["document"]) == (method == "synthesizrr") for r in rows)
    texts = [r["text"] for r in rows]
    assert metrics["entity_entropy"] == round(synth.entity_entropy(texts), 4)
    assert metrics["self_bleu"] == round(synth.self_bleu(texts), 4)
