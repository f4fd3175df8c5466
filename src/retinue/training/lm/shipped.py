"""Models the repository ships as LoRA adapters (`models/<name>/`), built into a runnable GGUF on first use.

A fresh clone runs agent-gemma without training (a new run of the embedded provider gets it when no model
is named): the first use merges the committed adapter
into Gemma 3 270M and writes RETINUE_HOME/models/<name>/model.gguf (a minute or two, with a progress
line), then registers it. A model of the same name trained here (`retinue train agent`) is registered
elsewhere and wins; a build from an older adapter is rebuilt when the adapter changes.
"""

import json
from pathlib import Path

from rich.console import Console

from retinue.config import LLMConfig
from retinue.locks import exclusive_lock
from retinue.models import registry
from retinue.models.model_folder import ADAPTER_FILE, CARD_FILE, GGUF_FILE, file_sha256
from retinue.paths import retinue_home

SHIPPED_MODELS = Path(__file__).resolve().parents[4] / "models"  # the repository's models/ folder
DEFAULT_AGENT_MODEL = "agent-gemma"  # what a new run of the embedded provider gets when no model is named


def shipped_adapter(name: str, root: Path = SHIPPED_MODELS) -> Path | None:
    """The folder of the adapter shipped as `name`, if there is one."""
    folder = root / name
    return folder if name and (folder / ADAPTER_FILE).is_file() and (folder / CARD_FILE).is_file() else None


def built_folder(name: str) -> Path:
    return retinue_home() / "models" / name


def needs_build(name: str, root: Path = SHIPPED_MODELS) -> bool:
    """Whether `name` is a shipped adapter with no current build (and no model of that name trained here)."""
    adapter = shipped_adapter(name, root)
    if adapter is None:
        return False
    if name in registry.names():
        folder = Path(registry.card(name).get("folder", ""))
        if folder.resolve() != built_folder(name).resolve():
            return False  # trained here under the same name: the user's model wins
        built = json.loads((folder / CARD_FILE).read_text())
        return built.get("adapter_sha256") != file_sha256(adapter / ADAPTER_FILE) or not (folder / GGUF_FILE).is_file()
    return True


def build_shipped(name: str, console: Console | None = None, root: Path = SHIPPED_MODELS) -> Path:
    """Merge the adapter shipped as `name` into Gemma 3 270M, write its GGUF and card under RETINUE_HOME,
    register it, and return the folder."""
    from retinue.training.lm.agent_sft import write_merged

    adapter = shipped_adapter(name, root)
    if adapter is None:
        raise ValueError(f"no adapter shipped as {name!r} in {root}")
    folder = built_folder(name)
    console = console or Console(stderr=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Several processes may start at once on a fresh machine (a sweep's cells): one builds, the others wait
    # for it and then find the build current.
    with exclusive_lock(folder.parent / f".{name}.build.lock"):
        if not needs_build(name, root):
            return folder
        with console.status(f"building {name} from {adapter} into {folder / GGUF_FILE}, once (a minute or two)"):
            write_merged(adapter, folder, shipped_from=str(adapter))
        registry.register(name, folder)
    console.print(f"built {name}: {folder / GGUF_FILE}")
    return folder


def model_for_new_run(config: LLMConfig, console: Console | None = None, root: Path = SHIPPED_MODELS) -> LLMConfig:
    """The chat model settings a new run records: the embedded provider with no model named gets agent-gemma
    where the repository ships it (`--model gemma3-270m` names the base model), built on first use."""
    if config.provider == "embedded" and config.model is None and shipped_adapter(DEFAULT_AGENT_MODEL, root):
        config = config.model_copy(update={"model": DEFAULT_AGENT_MODEL})
    ensure_chat_model(config, console, root)
    return config


def ensure_chat_model(config: LLMConfig, console: Console | None = None, root: Path = SHIPPED_MODELS) -> None:
    """Build the embedded model `config` names if it is a shipped adapter not built yet (front ends call
    this before they check the model)."""
    if config.provider == "embedded" and config.model is not None and needs_build(config.model, root):
        build_shipped(config.model, console, root)
