"""Shared fixtures. Tests never reach the network: only loopback and local sockets may connect."""

import hashlib
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from retinue.memory.faiss_store import FaissStore

pytest_plugins = ["tests.real_parts"]

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise RuntimeError(f"tests may not reach the network (tried {address})")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (Linux /proc); a zombie is dead, whether or not anyone has reaped it yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(autouse=True)
def retinue_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own RETINUE_HOME, except the shared model folder, which is costly to rebuild."""
    home = tmp_path_factory.mktemp("retinue_home")
    models = tmp_path_factory.getbasetemp() / "shared_models"
    models.mkdir(exist_ok=True)
    (home / "models").symlink_to(models)
    monkeypatch.setenv("RETINUE_HOME", str(home))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("RETINUE_DB", raising=False)
    return home


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server that .ci/run starts (RETINUE_TEST_POSTGRES), dropped
    after the test."""
    import os
    import secrets

    import psycopg
    from psycopg import sql

    server = os.environ.get("RETINUE_TEST_POSTGRES")
    if not server:
        pytest.skip("no PostgreSQL server: .ci/run starts one and sets RETINUE_TEST_POSTGRES")
    name = f"retinue_test_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


class HashEmbeddings(Embeddings):
    """A deterministic bag-of-words embedding for unit tests: texts sharing words are close."""

    def __init__(self, dims: int = 64) -> None:
        self.dims = dims

    def _one(self, text: str) -> list[float]:
        vector = np.zeros(self.dims, dtype=np.float32)
        for word in text.lower().split():
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1.0
        norm = np.linalg.norm(vector)
        return (vector / norm if norm else vector).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


def hash_store() -> FaissStore:
    """An in-memory FaissStore over `HashEmbeddings`, for unit tests of agents that remember."""
    return FaissStore(None, index={"dims": 64, "embed": HashEmbeddings(64), "fields": ["text"]})


@pytest.fixture
def hash_embeddings() -> HashEmbeddings:
    return HashEmbeddings()
