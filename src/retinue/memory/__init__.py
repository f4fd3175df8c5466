"""Shared memory: a durable LangGraph store with faiss vector search, and its embeddings."""

from retinue.memory.embeddings import DIMENSIONS, MiniLMEmbeddings
from retinue.memory.faiss_store import FaissStore
from retinue.memory.layered import LAYERS, LayeredMemory, Recalled

__all__ = ["DIMENSIONS", "LAYERS", "FaissStore", "LayeredMemory", "MiniLMEmbeddings", "Recalled"]
