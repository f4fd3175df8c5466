"""A trained model on disk: a folder with its tensors (loaded with `weights_only=True`) and a card.

`card.json` says what the model is (task, architecture, training data, metrics) and holds the SHA-256
of the tensor file, so a changed or swapped file is refused rather than silently used.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError

CARD_FILE = "card.json"
GGUF_FILE = "model.gguf"  # a trained Gemma written back for llama.cpp, run as the chat model
ADAPTER_FILE = "adapter.safetensors"  # LoRA weights alone (agent-gemma), merged into the base on use


def save_model_folder(folder: Path, tensor_file: str, tensors: dict[str, Any], card: dict[str, Any]) -> None:
    import torch  # here, not at the top: the registry reads cards with this module, without torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.save(tensors, folder / tensor_file)
    write_card(folder, {**card, "tensors_sha256": file_sha256(folder / tensor_file)})


def write_card(folder: Path, card: dict[str, Any]) -> None:
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")


def load_model_folder(folder: Path, tensor_file: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensors, card) of the model in `folder`; a clear error if it is missing, unreadable or altered."""
    import torch

    try:
        card = json.loads((folder / CARD_FILE).read_text())
        tensors = torch.load(folder / tensor_file, weights_only=True)
    except FileNotFoundError:
        raise RetinueError(f"no trained {what} in {folder} (expected {CARD_FILE} and {tensor_file})") from None
    except (ValueError, RuntimeError) as error:
        raise RetinueError(f"cannot read the {what} in {folder}: {error}") from None
    check_hash(folder / tensor_file, card)
    return tensors, card


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def check_hash(path: Path, card: dict[str, Any]) -> None:
    """Refuse a tensor file whose SHA-256 is not the one its card recorded."""
    # "head_sha256": the key of sentiment students trained before this module existed
    if card.get("tensors_sha256", card.get("head_sha256")) != file_sha256(path):
        raise RetinueError(f"{path} does not match its card's hash: the files were changed")
