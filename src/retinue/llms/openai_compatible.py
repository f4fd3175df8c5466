"""The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

A `response_schema` keyword becomes a `response_format`, in the first dialect the server accepts:
OpenAI's `{"type": "json_schema", ...}` (OpenAI, vLLM, Ollama), then `{"type": "json_object", "schema": ...}`
(llama-cpp-python's server), then none at all: `decide` has already put the schema into the prompt, so
the reply is parsed as text. A rejection (400/404/422, or a 500 naming response_format) is remembered per
model, so it costs one request.
"""

import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

from retinue.llms.failures import BrokenResponseError

log = logging.getLogger(__name__)

_UNSUPPORTED = (openai.BadRequestError, openai.UnprocessableEntityError, openai.NotFoundError)
# What the client library raises on a body it cannot read (not JSON, not SSE, missing fields): its own
# asserts and lookups fail. Such a reply is a transport fault, retried like a 5xx.
_UNREADABLE = (json.JSONDecodeError, AssertionError, KeyError, IndexError, TypeError)


def _openai_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "decision"))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def _json_object_with_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_object", "schema": schema}


RESPONSE_FORMATS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = (
    _openai_json_schema,
    _json_object_with_schema,
)


def _with_usage(chunks: Iterator[ChatGenerationChunk]) -> Iterator[ChatGenerationChunk]:
    """Pass chunks through; if the server sent no usage (llama-cpp-python's does not when streaming),
    end with an estimate: one token per content chunk, prompt tokens unknown (0), flagged as estimated."""
    pieces, reported = 0, False
    for chunk in chunks:
        reported = reported or bool(getattr(chunk.message, "usage_metadata", None))
        pieces += bool(chunk.message.content)
        yield chunk
    if not reported:
        usage = {"input_tokens": 0, "output_tokens": pieces, "total_tokens": pieces}
        message = AIMessageChunk(content="", usage_metadata=usage, response_metadata={"usage_estimated": True})  # type: ignore[arg-type]
        yield ChatGenerationChunk(message=message)


class OpenAICompatibleChatModel(ChatOpenAI):
    """`ChatOpenAI` that understands retinue's `response_schema` keyword, with a prompt-and-parse fallback."""

    _format_index: int = PrivateAttr(0)

    @property
    def structured_output_dialect(self) -> str:
        """Which response_format dialect this server accepted ("prompt-only" when none)."""
        if self._format_index < len(RESPONSE_FORMATS):
            return RESPONSE_FORMATS[self._format_index].__name__.lstrip("_")
        return "prompt-only"

    def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        # langchain-openai renames max_tokens to OpenAI's newer max_completion_tokens, which other
        # servers ignore (llama-cpp-python's then generates to the end of its context). Elsewhere than
        # OpenAI itself, send the name every compatible server knows.
        if self.openai_api_base and "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload

    def _formats(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Keyword sets to try in order, the last without a response_format."""
        schema = kwargs.pop("response_schema", None)
        if schema is not None:
            for make in RESPONSE_FORMATS[self._format_index :]:
                yield {**kwargs, "response_format": make(schema)}
        yield kwargs

    def _rejected_or_raise(self, error: openai.APIStatusError) -> None:
        # llama-cpp-python's server answers an unknown response_format with a 500 that names it.
        rejected = isinstance(error, _UNSUPPORTED) or (
            isinstance(error, openai.InternalServerError) and "response_format" in str(error)
        )
        if not rejected:
            raise error
        log.warning("%s rejected a response_format (%s); trying the next dialect", self.model_name, error)
        self._format_index += 1

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        *structured, plain = list(self._formats(kwargs))
        try:
            for attempt in structured:
                try:
                    return super()._generate(messages, stop, run_manager, **attempt)
                except openai.APIStatusError as error:
                    self._rejected_or_raise(error)
            return super()._generate(messages, stop, run_manager, **plain)
        except _UNREADABLE as error:
            raise BrokenResponseError(f"unreadable reply from {self.openai_api_base}: {error!r}") from error

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        *structured, plain = list(self._formats(kwargs))
        try:
            for attempt in structured:
                try:
                    yield from _with_usage(super()._stream(messages, stop, run_manager, **attempt))
                    return
                except openai.APIStatusError as error:
                    self._rejected_or_raise(error)
            yield from _with_usage(super()._stream(messages, stop, run_manager, **plain))
        except _UNREADABLE as error:
            raise BrokenResponseError(f"unreadable reply from {self.openai_api_base}: {error!r}") from error
