"""KBGN through the command line on a generated set: data, training with a progress bar, the registered
model evaluated again, and the full model ranking answers better than the question-only baseline."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.tools.local_models import VisualDialogTool
from retinue.training.kbgn.dataset import load_visdial
from retinue.training.kbgn.scenes import ANSWER_POOL, COLOURS, make_dialog
from retinue.training.kbgn.train import evaluate, train_kbgn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done


def test_kbgn_trains_on_generated_dialogues_and_beats_the_question_only_baseline(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cli("train", "kbgn-data", "--train", "600", "--val", "150", "--out", str(data))
    assert {p.name for p in data.iterdir()} == {"dataset.json", "train.npz", "val.npz", "crop_encoder.pt"}
    runs = {}
    for ablation in ("question-only", "full"):
        out = tmp_path / ablation
        done = _cli("train", "kbgn", "--data", str(data), "--epochs", "4", "--ablation", ablation, "--out", str(out))
        runs[ablation] = json.loads((out / "metrics.json").read_text())
        assert f"mrr: {runs[ablation]['mrr']}" in done.stdout
    full, blind = runs["full"], runs["question-only"]
    assert full["mrr"] > blind["mrr"] + 0.03 and full["r_at_1"] > blind["r_at_1"]
    # the last model trained is the registered one; evaluating it again gives the same figures
    again = _cli("eval", "kbgn", "--data", str(data), "--out", str(tmp_path / "eval"))
    assert f"mrr: {full['mrr']}" in again.stdout and f"ndcg: {full['ndcg']}" in again.stdout
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["mrr"] == full["mrr"]
    by_run = _cli("eval", "kbgn", "--data", str(data), "--kbgn-model", str(tmp_path / "full"))  # the training run
    assert by_run.returncode == 0 and f"mrr: {full['mrr']}" in by_run.stdout

    # An agent's tool: the trained model answers about a scene it never saw, given caption and history.
    tool = VisualDialogTool.load(tmp_path / "full" / "model")
    dialog = make_dialog(random.Random(12345))
    answers = tool.answer(dialog.objects, dialog.caption, [("where is it?", "in the top left")], "what colour is it?")
    assert len(answers) == 3 and answers[0][1] >= answers[1][1] >= answers[2][1] > 0
    assert answers == tool.answer(
        dialog.objects, dialog.caption, [("where is it?", "in the top left")], "what colour is it?"
    )
    colour_phrasings = {text for text, _ in ANSWER_POOL if any(c in text for c in COLOURS)}
    assert answers[0][0] in colour_phrasings  # it answers the question that was asked


def test_kbgn_commands_name_bad_input(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "retinue.cli"]
    cases = [
        (["train", "kbgn", "--data", str(tmp_path)], "holds no KBGN data set"),
        (["train", "kbgn", "--data", str(tmp_path), "--ablation", "nope"], "is not one of"),
        (["eval", "kbgn", "--data", str(tmp_path), "--kbgn-model", str(tmp_path)], "no trained KBGN model"),
    ]
    for args, expected in cases:
        done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr


VISDIAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "visdial" / "visdial_1.0_val_50dialogs.json"


@pytest.mark.skipif(not VISDIAL.exists(), reason="the shared VisDial dialogs are not there")
def test_real_visdial_dialogs_go_through_the_text_pipeline(tmp_path: Path) -> None:
    data = load_visdial(VISDIAL)
    assert (data.dialogs, data.rounds) == (50, 10) and data.tensors["candidates"].shape == (50, 10, 100)
    first = data.tensors["candidates"][0, 0, data.tensors["gt_index"][0, 0]]
    assert data.answers[int(first)] == "yes"  # round 1 of the first dialog: "is the photo in color?" "yes"
    model = train_kbgn(data, "full", epochs=1)  # text only: the scenes have no regions
    metrics = evaluate(model, data)
    assert 1 <= metrics["mean_rank"] <= 100 and 0 < metrics["mrr"] <= 1
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": {"questions": []}}')
    with pytest.raises(RetinueError, match="is not a VisDial v1.0 dialog file"):
        load_visdial(broken)
