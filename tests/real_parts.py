"""Fixtures for the real parts (a pytest plugin): the embedded GGUF model and llama-cpp-python's OpenAI server."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from retinue.llms.llama_cpp import LlamaCppChatModel, default_model_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """RETINUE_HOME set to the test session's e2e home, whose models/ is the shared model folder that the
    per-test RETINUE_HOMEs link to: what is assembled or built there is made once a session."""
    import os

    base = tmp_path_factory.getbasetemp()
    shared = base / "shared_models"
    shared.mkdir(exist_ok=True)
    home = base / "e2e_home"
    home.mkdir(exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(shared)
    previous = os.environ.get("RETINUE_HOME")
    os.environ["RETINUE_HOME"] = str(home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RETINUE_HOME", None)
        else:
            os.environ["RETINUE_HOME"] = previous


@pytest.fixture(scope="session")
def gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with _e2e_home(tmp_path_factory):
        return default_model_path()


@pytest.fixture(scope="session")
def agent_gemma_folder(tmp_path_factory: pytest.TempPathFactory, gguf_path: Path) -> Path:
    """The shipped agent-gemma, built once a session (what a new embedded run gets by default)."""
    from retinue.training.lm.shipped import DEFAULT_AGENT_MODEL, build_shipped, built_folder, needs_build

    with _e2e_home(tmp_path_factory):
        if needs_build(DEFAULT_AGENT_MODEL):
            build_shipped(DEFAULT_AGENT_MODEL)
        return built_folder(DEFAULT_AGENT_MODEL)


@pytest.fixture
def model_home(tmp_path: Path, gguf_path: Path, agent_gemma_folder: Path) -> Path:
    """A fresh RETINUE_HOME for a subprocess, with the assembled models linked in (no re-assembly): Gemma 3
    270M and the built agent-gemma, registered."""
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    for name in ("gemma-3-270m-q4_k_m.gguf", "gemma-3-270m-q4_k_m.verified"):
        (home / "models" / name).symlink_to(gguf_path.parent / name)
    linked = home / "models" / agent_gemma_folder.name
    linked.symlink_to(agent_gemma_folder)
    (home / "models" / "registry.json").write_text(json.dumps({agent_gemma_folder.name: str(linked)}))
    return home


@pytest.fixture(scope="session")
def embedded_model(gguf_path: Path) -> LlamaCppChatModel:
    return LlamaCppChatModel(model_path=str(gguf_path), n_ctx=2048, max_tokens=48, temperature=0.0, seed=0)


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on 127.0.0.1 with the same GGUF; yields its /v1 base URL."""
    port = free_port()
    log = (tmp_path_factory.getbasetemp() / "llama_server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf_path),
            "--model_alias",
            "gemma",
            "--chat_format",
            "alpaca",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError("llama_cpp.server did not start within 120 s")
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def tw_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real cooking game per GATA level (1-5), made by tw-make, with its manifest."""
    from retinue.envs.textworld_suite import make_games

    suite = tmp_path_factory.getbasetemp() / "tw_suite"
    make_games([1, 2, 3, 4, 5], "train", 1, 0, suite)
    return suite


def suite_of(tw_suite: Path, tmp_path: Path, levels: list[int], split: str | None = None) -> Path:
    """A suite folder of some of `tw_suite`'s games (links), optionally claiming another split."""
    folder = tmp_path / "games"
    folder.mkdir()
    kept = [e for e in json.loads((tw_suite / "manifest.json").read_text())["games"] if e["level"] in levels]
    for entry in kept:
        for suffix in (".z8", ".json"):
            (folder / entry["file"]).with_suffix(suffix).symlink_to((tw_suite / entry["file"]).with_suffix(suffix))
        if split is not None:
            entry["split"] = split
    (folder / "manifest.json").write_text(json.dumps({"games": kept}))
    return folder
