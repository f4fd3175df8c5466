"""The model registry: built-in cards, registering a trained model, clear errors."""

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.models.registry import card, model_folder, names, register


def test_built_ins_and_registered_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETINUE_HOME", str(tmp_path / "home"))
    assert names() == ["gemma3-270m", "all-minilm-l6-v2"]
    assert card("gemma3-270m")["taxonomy"]["adaptation"] == "prompting"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "card.json").write_text(json.dumps({"task": "sentiment", "parameters": 1155}))
    register("sentiment-student", folder)
    assert names()[-1] == "sentiment-student" and card("sentiment-student")["parameters"] == 1155
    with pytest.raises(RetinueError, match="built-in"):
        register("gemma3-270m", folder)
    with pytest.raises(RetinueError, match="no card.json"):
        register("other", tmp_path)
    with pytest.raises(RetinueError, match="no model 'missing'"):
        card("missing")
    (folder / "card.json").unlink()
    with pytest.raises(RetinueError, match="no longer holds card.json"):
        card("sentiment-student")


def test_a_model_is_given_by_folder_or_by_registered_name(tmp_path: Path) -> None:
    from retinue.models.registry import model_folder

    assert model_folder(tmp_path / "given", "test-explorer", "train one") == tmp_path / "given"
    with pytest.raises(RetinueError, match="no model 'test-explorer' registered: train one"):
        model_folder(None, "test-explorer", "train one")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "card.json").write_text("{}")
    register("test-explorer", folder)
    assert model_folder(None, "test-explorer", "train one") == folder.resolve()


def test_a_model_is_found_by_its_folder_its_training_run_or_its_name(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "explorer"
    (run / "model").mkdir(parents=True)
    (run / "model" / "card.json").write_text(json.dumps({"task": "explorer"}))
    assert model_folder(run / "model", "kg-explorer", "train one") == run / "model"
    assert model_folder(run, "kg-explorer", "train one") == run / "model"  # the run folder `train` printed
    with pytest.raises(RetinueError, match="no model 'kg-explorer' registered: train one"):
        model_folder(None, "kg-explorer", "train one")
    register("my-explorer", run / "model")
    assert model_folder(Path("my-explorer"), "kg-explorer", "train one") == run / "model"
    assert model_folder(None, "my-explorer", "train one") == run / "model"
    assert model_folder(tmp_path / "elsewhere", "kg-explorer", "x") == tmp_path / "elsewhere"  # its loader names it


def _register_many(first: int) -> None:
    folder = Path(os.environ["RETINUE_HOME"]).parent / "model"
    for number in range(first, first + 25):
        register(f"model-{number}", folder)


def test_models_registered_at_once_by_several_processes_all_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETINUE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "card.json").write_text("{}")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_register_many, [0, 25, 50, 75])
    assert sorted(n for n in names() if n.startswith("model-")) == sorted(f"model-{n}" for n in range(100))
