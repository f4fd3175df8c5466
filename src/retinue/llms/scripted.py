"""A deterministic chat model for tests and dry runs: replays canned responses and records every call.

Like openai-agents' `testing/model.py`: a test scripts what the model says, runs the code under test,
then calls `assert_all_used()` so that a response the code never asked for fails the test.
"""

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from retinue.errors import ConfigError
from retinue.jsonfiles import read_json
from retinue.llms.failures import ScriptExhaustedError

ScriptStep = str | dict[str, Any] | BaseException


class UnusedScriptError(AssertionError):
    """Scripted responses were left over: the code under test made fewer calls than expected."""


@dataclass
class ScriptedCall:
    """One call the scripted model received."""

    messages: list[BaseMessage]
    kwargs: dict[str, Any] = field(default_factory=dict)


class ScriptedChatModel(BaseChatModel):
    """Replays `responses` in order. A dict is sent as JSON text; an exception is raised at that step.
    `compute_seconds` keeps a core busy that long per call, standing in for a real model's inference."""

    responses: list[Any]
    model_name: str = "scripted"
    compute_seconds: float = 0.0
    _cursor: int = PrivateAttr(0)
    _calls: list[ScriptedCall] = PrivateAttr(default_factory=list)

    @classmethod
    def from_file(cls, path: Path, **fields: Any) -> "ScriptedChatModel":
        """Load `{"responses": [...], "compute_seconds": 0.0}` (responses: strings or JSON objects) from a file."""
        data = read_json(path, "llm.script")
        if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
            raise ConfigError(f'llm.script: {path} must hold {{"responses": [...]}}')
        compute = data.get("compute_seconds", 0.0)
        if isinstance(compute, bool) or not isinstance(compute, int | float) or compute < 0:
            raise ConfigError(f"llm.script: {path}: compute_seconds must be a number of seconds >= 0")
        return cls(responses=data["responses"], compute_seconds=float(compute), **fields)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @property
    def calls(self) -> Sequence[ScriptedCall]:
        return tuple(self._calls)

    @property
    def remaining(self) -> int:
        return len(self.responses) - self._cursor

    def assert_all_used(self) -> None:
        if self.remaining:
            raise UnusedScriptError(
                f"{self.remaining} scripted response(s) never requested; next: {self.responses[self._cursor]!r}"
            )

    def _next_text(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        self._calls.append(ScriptedCall(list(messages), dict(kwargs)))
        if self._cursor >= len(self.responses):
            raise ScriptExhaustedError(f"scripted model asked for call {self._cursor + 1} of {len(self.responses)}")
        step = self.responses[self._cursor]
        self._cursor += 1
        _busy(self.compute_seconds)
        if isinstance(step, BaseException):
            raise step
        return step if isinstance(step, str) else json.dumps(step)

    @staticmethod
    def _usage(messages: list[BaseMessage], text: str) -> dict[str, int]:
        # Whitespace words stand in for tokens, so that usage accounting has something real to add up.
        prompt = sum(len(str(message.content).split()) for message in messages)
        completion = len(text.split())
        return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self._next_text(messages, kwargs)
        message = AIMessage(content=text, usage_metadata=self._usage(messages, text))  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = self._next_text(messages, kwargs)
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            token = piece if index == 0 else " " + piece
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        usage = self._usage(messages, text)
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))  # type: ignore[arg-type]


def _busy(seconds: float) -> None:
    """Keep this core busy for `seconds` of CPU time (not wall time: a shared core takes longer)."""
    if seconds <= 0:
        return
    until = time.process_time() + seconds
    while time.process_time() < until:
        sum(range(1000))
