"""A trained model on disk: a folder with its tensors (loaded with `weights_only=True`) and a card.

`card.json` says what the model is (task, architecture, training data, metrics) and holds the SHA-256
of the tensor file, so a changed or swapped file is refused rather than silently used.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from retinue.errors import RetinueError

CARD_FILE = "card.json"


def save_model_folder(folder: Path, tensor_file: str, tensors: dict[str, Any], card: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(tensors, folder / tensor_file)
    digest = hashlib.sha256((folder / tensor_file).read_bytes()).hexdigest()
    (folder / CARD_FILE).write_text(json.dumps({**card, "tensors_sha256": digest}, indent=2) + "\n")


def load_model_folder(folder: Path, tensor_file: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensors, card) of the model in `folder`; a clear error if it is missing, unreadable or altered."""
    try:
        card = json.loads((folder / CARD_FILE).read_text())
        tensors = torch.load(folder / tensor_file, weights_only=True)
    except FileNotFoundError:
        raise RetinueError(f"no trained {what} in {folder} (expected {CARD_FILE} and {tensor_file})") from None
    except (ValueError, RuntimeError) as error:
        raise RetinueError(f"cannot read the {what} in {folder}: {error}") from None
    digest = hashlib.sha256((folder / tensor_file).read_bytes()).hexdigest()
    # "head_sha256": the key of sentiment students trained before this module existed
    if card.get("tensors_sha256", card.get("head_sha256")) != digest:
        raise RetinueError(f"{folder / tensor_file} does not match its card's hash: the files were changed")
    return tensors, card
