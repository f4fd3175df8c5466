"""`retinue train cpt` on the shared Italian data: a tiny decoder pretrained on general text, then
continued on clinical text, with perplexity before and after on held-out text of both."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ITALIAN = Path(__file__).resolve().parents[3] / "shared" / "data" / "italian"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (ITALIAN / "e3c_it.jsonl").exists(), reason="the shared Italian data is not there"),
]


def _cpt(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "retinue.cli", "train", "cpt", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def test_continual_pretraining_lowers_domain_perplexity(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = _cpt("--steps", "40", "--base-steps", "40", "--seq", "64", "--out", str(out))
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["domain_ppl_after"] < 0.9 * metrics["domain_ppl_before"]
    assert metrics["general_ppl_before"] > 1 and metrics["general_ppl_after"] > 1
    assert f"domain_ppl_after: {metrics['domain_ppl_after']}" in done.stdout
    assert (out / "base" / "card.json").exists() and (out / "model" / "lm.pt").exists()
    # TransAct prunes it to half the heads and half the MLP width, by activations, with magnitude and random
    pruned = tmp_path / "pruned"
    args = ["train", "transact", "--model", str(out / "model"), "--target-attn-dim", "64", "--target-mlp-dim", "176"]
    command = [
        sys.executable,
        "-m",
        "retinue.cli",
        *args,
        "--rounds",
        "2",
        "--retrain-steps",
        "5",
        "--out",
        str(pruned),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads((pruned / "metrics.json").read_text())
    for method in ("transact", "magnitude", "random"):
        assert result[f"{method}_parameters"] < result["original_parameters"]
        assert result[f"{method}_kv_cache_bytes"] * 2 == result["original_kv_cache_bytes"]
        assert result[f"{method}_perplexity"] > 1
    assert json.loads((pruned / "model" / "card.json").read_text())["config"]["heads"] == [2, 2, 2, 2]
    bad = subprocess.run(
        [*command[:-2], "--target-attn-dim", "50", "--out", str(tmp_path / "bad")], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "multiple of the head size 32" in bad.stderr

    # the trained model is a base for another run, which must then see the same sequence length or less
    again = _cpt("--base", str(out / "model"), "--steps", "5", "--seq", "128", "--out", str(tmp_path / "again"))
    assert again.returncode == 1 and "longer than the base model's 64" in again.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--replay", "2"], "--replay: 2.0 is outside 0..0.9"),
        (["--domain", "/nonexistent.jsonl"], "file not found"),
        (["--base", "/nonexistent"], "no trained language model"),
    ],
)
def test_bad_cpt_input_is_named(tmp_path: Path, args: list[str], expected: str) -> None:
    done = _cpt(*args, "--steps", "1", "--base-steps", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
