"""`retinue train sentiment` on Financial PhraseBank with real MiniLM embeddings, and FinCon using it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "sentiment").is_dir(), reason="the shared sentiment data is not there"),
]


def _cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETINUE_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sentiment") / "run"
    home = tmp_path_factory.mktemp("sentiment_home")  # a module fixture runs before the per-test home is set
    options = ["--limit", "400", "--eval-limit", "400", "--name", "test-student", "--out", str(out)]
    done = _cli("train", "sentiment", *options, home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads((home / "models" / "registry.json").read_text()) == {"test-student": str(out / "model")}
    return out


def test_the_student_beats_the_majority_class(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["train_examples"] == 400
    assert metrics["phrasebank_test_accuracy"] > metrics["phrasebank_test_majority_accuracy"] + 0.05
    assert metrics["phrasebank_test_macro_f1"] > 0.4
    card = json.loads((trained / "model" / "card.json").read_text())
    assert card["classes"] == ["negative", "neutral", "positive"] and len(card["tensors_sha256"]) == 64


def test_fincon_runs_with_the_sentiment_model_and_a_bad_path_is_named(trained: Path, tmp_path: Path) -> None:
    # every written part (key point, reasons) and every choice (signal, action) alike
    reply = {"key_point": "demand", "reasons": "r", "logprobs": {"positive": -0.2, "BUY": -0.2}}
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [reply] * 50}))
    common = [
        "backtest",
        "--method",
        "fincon",
        "--tickers",
        "AAPL",
        "--start",
        "2022-10-05",
        "--end",
        "2022-10-07",
        "--llm",
        "scripted",
        "--script",
        str(script),
        "--no-cache",
    ]
    done = _cli(*common, "--sentiment-model", str(trained / "model"), "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["sentiment_model"] == str(trained / "model")
    bad = _cli(*common, "--sentiment-model", str(tmp_path / "nowhere"), "--out", str(tmp_path / "bad"))
    assert bad.returncode == 1 and "no trained classifier" in bad.stderr and not (tmp_path / "bad").exists()


def test_a_student_trains_on_a_labelled_jsonl_instead(tmp_path: Path) -> None:
    rows = [
        ("Profit jumped and sales beat forecasts", "positive"),
        ("Shares sank after a loss warning", "negative"),
        ("The board meets on Tuesday", "neutral"),
    ] * 2
    data = tmp_path / "synthetic.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows))
    done = _cli("train", "sentiment", "--train-jsonl", str(data), "--eval-limit", "20", "--name", "tiny", "--out",
                str(tmp_path / "run"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["train_examples"] == 6
    assert "embedding 6 training, 20 test and 20 tweet texts" in done.stderr
    card = json.loads((tmp_path / "run" / "model" / "card.json").read_text())
    assert card["training_data"].startswith(str(data))
