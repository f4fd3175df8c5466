"""Which shipped adapters a command builds on first use: none that is missing, none trained here under the
same name, and a build again when the shipped adapter changes."""

import json
from pathlib import Path

import pytest

from retinue.config import LLMConfig
from retinue.models import registry
from retinue.models.model_folder import ADAPTER_FILE, CARD_FILE, GGUF_FILE, file_sha256
from retinue.training.lm import shipped
from retinue.training.lm.shipped import (
    DEFAULT_AGENT_MODEL,
    built_folder,
    ensure_chat_model,
    model_for_new_run,
    needs_build,
    shipped_adapter,
)


def _ship(root: Path, name: str, weights: bytes) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ADAPTER_FILE).write_bytes(weights)
    (folder / CARD_FILE).write_text("{}")
    return folder


def _built(name: str, adapter: Path) -> None:
    folder = built_folder(name)
    folder.mkdir(parents=True)
    (folder / GGUF_FILE).write_bytes(b"gguf")
    (folder / CARD_FILE).write_text(json.dumps({"adapter_sha256": file_sha256(adapter / ADAPTER_FILE)}))
    registry.register(name, folder)


def test_only_a_shipped_adapter_not_built_yet_needs_a_build(tmp_path: Path) -> None:
    root = tmp_path / "models"
    adapter = _ship(root, "agent-x", b"weights")
    assert shipped_adapter("agent-y", root) is None and not needs_build("agent-y", root)
    assert needs_build("agent-x", root)
    _built("agent-x", adapter)
    assert not needs_build("agent-x", root)
    (adapter / ADAPTER_FILE).write_bytes(b"new weights")  # a newer adapter was pulled: build it again
    assert needs_build("agent-x", root)


def test_a_model_trained_here_under_the_shipped_name_wins(tmp_path: Path) -> None:
    root = tmp_path / "models"
    _ship(root, "agent-x", b"weights")
    trained = tmp_path / "run" / "model"
    trained.mkdir(parents=True)
    (trained / CARD_FILE).write_text("{}")
    registry.register("agent-x", trained)
    assert not needs_build("agent-x", root)


def test_commands_build_only_an_embedded_shipped_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "models"
    _ship(root, "agent-unbuilt", b"weights")  # (the test session's registry is shared: a name no test builds)
    built: list[str] = []
    monkeypatch.setattr(shipped, "build_shipped", lambda name, console=None, where=root: built.append(name))
    ensure_chat_model(LLMConfig(provider="embedded", model="agent-unbuilt"), root=root)
    ensure_chat_model(LLMConfig(provider="openai", model="agent-unbuilt"), root=root)
    ensure_chat_model(LLMConfig(provider="embedded"), root=root)
    assert built == ["agent-unbuilt"]


def test_a_new_embedded_run_with_no_model_named_gets_the_shipped_agent_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "models"
    built: list[str] = []
    monkeypatch.setattr(shipped, "needs_build", lambda name, where=root: name == DEFAULT_AGENT_MODEL)
    monkeypatch.setattr(shipped, "build_shipped", lambda name, console=None, where=root: built.append(name))
    unnamed = LLMConfig(provider="embedded")
    assert model_for_new_run(unnamed, root=root).model is None  # nothing shipped: the base model
    _ship(root, DEFAULT_AGENT_MODEL, b"weights")
    assert model_for_new_run(unnamed, root=root).model == DEFAULT_AGENT_MODEL and built == [DEFAULT_AGENT_MODEL]
    base = LLMConfig(provider="embedded", model="gemma3-270m")
    assert model_for_new_run(base, root=root).model == "gemma3-270m"  # the base model when named
    assert model_for_new_run(LLMConfig(provider="openai"), root=root).model is None
    assert built == [DEFAULT_AGENT_MODEL]


def test_processes_starting_at_once_build_a_shipped_model_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from retinue.training.lm import agent_sft

    root = tmp_path / "models"
    _ship(root, "agent-at-once", b"weights")
    builds: list[Path] = []

    def slow_merge(given: Path, folder: Path, **fields: object) -> dict[str, object]:
        builds.append(folder)
        time.sleep(0.3)  # the other one asks meanwhile
        folder.mkdir(parents=True, exist_ok=True)
        (folder / GGUF_FILE).write_bytes(b"gguf")
        card = {"adapter_sha256": file_sha256(given / ADAPTER_FILE)}
        (folder / CARD_FILE).write_text(json.dumps(card))
        return card

    monkeypatch.setattr(agent_sft, "write_merged", slow_merge)
    threads = [threading.Thread(target=shipped.build_shipped, args=("agent-at-once", None, root)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [built_folder("agent-at-once")] and not needs_build("agent-at-once", root)
