"""agent-gemma's real pipeline on a small slice: labelled states of a real train game, a few LoRA steps on
the real Gemma 3 270M, the adapter saved and merged into a GGUF, and the result run through the choice
seam by `retinue probe`; then the fresh-clone path, building a shipped adapter on first use."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retinue.models import registry
from retinue.models.model_folder import ADAPTER_FILE, GGUF_FILE, file_sha256
from tests.real_parts import suite_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SHIPPED = Path(__file__).resolve().parents[2] / "models"


def _retinue(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=1200)


def test_a_few_steps_of_training_make_a_model_the_seam_runs(tw_suite: Path, tmp_path: Path) -> None:
    from retinue.training.lm.shipped import build_shipped, needs_build

    games = suite_of(tw_suite, tmp_path, [1])
    data, run = tmp_path / "data", tmp_path / "run"
    made = _retinue("train", "agent-data", "--games", str(games), "--deviations", "1", "--out", str(data))
    assert made.returncode == 0, made.stderr

    missing = _retinue("train", "agent", "--data", str(data), "--roles", "planner", "--out", str(tmp_path / "bad"))
    assert missing.returncode == 1 and "no planner.jsonl" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "bad").exists()  # refused before a run directory was made
    big = tmp_path / "big"
    too_big = _retinue("train", "agent", "--data", str(data), "--budget-tokens", "100000000", "--out", str(big))
    assert too_big.returncode == 1 and "--budget-tokens 100000000" in too_big.stderr, too_big.stderr
    assert "Traceback" not in too_big.stderr and not big.exists()

    done = _retinue(
        "train", "agent", "--data", str(data), "--steps", "6", "--accumulate", "2", "--lr", "1e-3",
        "--held-out", "0", "--name", "agent-test", "--out", str(run),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Loading weights" not in done.stderr and "Writing model shards" not in done.stderr  # no library chatter
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_examples"] > 4 and metrics["held_out_examples"] == 0
    assert metrics["target_loss_train_after"] < 0.8 * metrics["target_loss_train_before"]  # it learned the labels
    adapter = run / "adapter" / ADAPTER_FILE
    assert adapter.stat().st_size < 16 * 2**20  # small enough to commit
    assert (run / "model" / GGUF_FILE).is_file() and registry.card("agent-test")["folder"] == str(run / "model")

    # Training goes on from a saved adapter (here on examples ZIP picks to a token budget): it starts where
    # the first run ended, and a step too small to move it leaves it there.
    again = _retinue(
        "train", "agent", "--data", str(data), "--steps", "1", "--accumulate", "1", "--lr", "1e-12",
        "--held-out", "0", "--init-adapter", str(run / "adapter"), "--name", "agent-again",
        "--budget-tokens", "3000", "--selection", "zip", "--out", str(tmp_path / "again"),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    continued = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert continued["target_loss_train_before"] < 0.8 * metrics["target_loss_train_before"]  # not from the base
    assert abs(continued["target_loss_train_after"] - continued["target_loss_train_before"]) < 0.01
    assert continued["selection"] == "zip" and 3000 <= continued["selected_tokens"] < 3000 + 1024
    assert continued["train_examples"] < metrics["train_examples"]
    assert 1 < continued["compression_ratio_selected"] <= continued["compression_ratio_pool"]
    card = json.loads((tmp_path / "again" / "adapter" / "card.json").read_text())
    assert card["continued_from"]["adapter_sha256"] == file_sha256(adapter)

    probed = _retinue("probe", "--role", "actor", "--pairs", "2", "--orders", "2", "--model", "agent-test",
                      "--out", str(tmp_path / "probe"))  # fmt: skip
    assert probed.returncode == 0, probed.stderr
    answers = [json.loads(line) for line in (tmp_path / "probe" / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 8 and all(a["valid"] for a in answers)  # scored through the seam, no fallback

    # A fresh clone: the adapter shipped under models/NAME is merged and written as a GGUF on first use.
    shipped = tmp_path / "models"
    shutil.copytree(run / "adapter", shipped / "agent-shipped")
    assert needs_build("agent-shipped", shipped)
    folder = build_shipped("agent-shipped", root=shipped)
    assert (folder / GGUF_FILE).is_file() and Path(registry.card("agent-shipped")["folder"]) == folder.resolve()
    assert not needs_build("agent-shipped", shipped)
    assert (folder / GGUF_FILE).read_bytes() == (run / "model" / GGUF_FILE).read_bytes()  # the same model
    assert not needs_build("agent-test", shipped)  # not shipped: nothing to build


@pytest.mark.parametrize("name", ["agent-gemma", "agent-gemma-4"])
def test_the_shipped_agent_gemma_matches_its_card(name: str) -> None:
    from retinue.models.model_folder import check_hash

    folder = SHIPPED / name
    card = json.loads((folder / "card.json").read_text())
    check_hash(folder / ADAPTER_FILE, card)
    assert (folder / ADAPTER_FILE).stat().st_size < 16 * 2**20
    for field in ("training_data", "seed", "device", "metrics", "held_out", "command", "choice_roles"):
        assert card.get(field) not in (None, "", {}), field
