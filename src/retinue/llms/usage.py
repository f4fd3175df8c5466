"""Usage accounting: calls, tokens, cache hits, fallbacks and latency, per run and per agent role.

`UsageRecorder` is a LangChain callback handler attached to the chat model, so every call is counted
whichever code path made it. The role is the `retinue_role` metadata of the call if given, else the
LangGraph node that made it, else "default".
"""

import json
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

ROLE_KEY = "retinue_role"


@dataclass
class RoleUsage:
    """Totals for one role. Tokens count only calls that reached the model, not cache replays."""

    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_seconds: float = 0.0

    def add(self, other: "RoleUsage") -> None:
        for spec in fields(self):
            setattr(self, spec.name, getattr(self, spec.name) + getattr(other, spec.name))


class UsageRecorder(BaseCallbackHandler):
    """Counts every chat-model call it sees. Thread-safe; `to_dict()` is what runs save as usage.json."""

    def __init__(self) -> None:
        self.by_role: dict[str, RoleUsage] = {}
        self._started: dict[UUID, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _role(metadata: dict[str, Any] | None) -> str:
        metadata = metadata or {}
        return str(metadata.get(ROLE_KEY) or metadata.get("langgraph_node") or "default")

    def _totals(self, role: str) -> RoleUsage:
        return self.by_role.setdefault(role, RoleUsage())

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with self._lock:
            self._started[run_id] = (self._role(metadata), time.perf_counter())

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            role, started = self._started.pop(run_id, ("default", time.perf_counter()))
            totals = self._totals(role)
            for generation in (g for batch in response.generations for g in batch):
                message = generation.message if isinstance(generation, ChatGeneration) else None
                if message is not None and message.response_metadata.get("cache_hit"):
                    totals.cache_hits += 1
                    continue
                totals.calls += 1
                totals.latency_seconds += time.perf_counter() - started
                usage = getattr(message, "usage_metadata", None) or {}
                totals.prompt_tokens += int(usage.get("input_tokens", 0))
                totals.completion_tokens += int(usage.get("output_tokens", 0))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            role, _ = self._started.pop(run_id, ("default", 0.0))
            self._totals(role).errors += 1

    def record_fallback(self, role: str) -> None:
        """A decision gave up and returned its safe default."""
        with self._lock:
            self._totals(role).fallbacks += 1

    def total(self) -> RoleUsage:
        with self._lock:
            total = RoleUsage()
            for usage in self.by_role.values():
                total.add(usage)
            return total

    def to_dict(self) -> dict[str, Any]:
        total = self.total()
        with self._lock:
            return {"total": asdict(total), "by_role": {r: asdict(u) for r, u in sorted(self.by_role.items())}}

    def merge_dict(self, data: dict[str, Any]) -> None:
        """Add totals saved earlier (a resumed run continues its counts)."""
        with self._lock:
            for role, values in data.get("by_role", {}).items():
                self._totals(role).add(RoleUsage(**values))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
