"""A deterministic chat model for tests and dry runs: replays canned responses and records every call.

Like openai-agents' `testing/model.py`: a test scripts what the model says, runs the code under test,
then calls `assert_all_used()` so that a response the code never asked for fails the test.

A choice (`retinue.llms.choose`) takes one step too: an option's text or `{"pick": OPTION}` (that option
gets probability 0.9, the rest share 0.1), `{"position": K}` (the option shown K-th, from 1), or
`{"logprobs": {OPTION: LOGPROB, ...}}`; anything else is replied as it is. A baseline prompt's scores
(calibration) are uniform and take no step: the script holds only the model's decisions.
"""

import json
import math
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
from retinue.llms.option_scores import OptionScores, ScoreRequest

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
        request = ScoreRequest.from_kwargs(kwargs)
        if request is not None and request.baseline:
            uniform = [-math.log(len(request.options))] * len(request.options)
            return OptionScores(uniform, [1] * len(request.options), "scripted").to_json()
        if self._cursor >= len(self.responses):
            raise ScriptExhaustedError(f"scripted model asked for call {self._cursor + 1} of {len(self.responses)}")
        step = self.responses[self._cursor]
        self._cursor += 1
        _busy(self.compute_seconds)
        if isinstance(step, BaseException):
            raise step
        if request is not None:
            return _scores(step, request.options)
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
        if ScoreRequest.from_kwargs(kwargs) is not None:  # option scores: one chunk, no tokens to watch
            yield ChatGenerationChunk(message=AIMessageChunk(content=text, usage_metadata=self._usage(messages, text)))  # type: ignore[arg-type]
            return
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            token = piece if index == 0 else " " + piece
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        usage = self._usage(messages, text)
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))  # type: ignore[arg-type]


def _scores(step: Any, options: list[str]) -> str:
    """A scripted choice step as the option scores a provider would reply (see the module doc)."""
    pick = None
    if isinstance(step, str) and step in options:
        pick = step
    elif isinstance(step, dict) and step.get("pick") in options:
        pick = step["pick"]
    elif isinstance(step, dict) and isinstance(step.get("position"), int) and 1 <= step["position"] <= len(options):
        pick = options[step["position"] - 1]
    elif isinstance(step, dict) and isinstance(step.get("logprobs"), dict):
        given = step["logprobs"]
        return OptionScores([float(given.get(o, -30.0)) for o in options], [1] * len(options), "scripted").to_json()
    if pick is None:
        return step if isinstance(step, str) else json.dumps(step)
    rest = math.log(0.1 / (len(options) - 1)) if len(options) > 1 else 0.0
    logprobs = [math.log(0.9) if option == pick else rest for option in options]
    return OptionScores(logprobs, [1] * len(options), "scripted").to_json()


def _busy(seconds: float) -> None:
    """Keep this core busy for `seconds` of CPU time (not wall time: a shared core takes longer)."""
    if seconds <= 0:
        return
    until = time.process_time() + seconds
    while time.process_time() < until:
        sum(range(1000))
