"""The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

A `response_schema` keyword becomes `response_format={"type": "json_schema", ...}`. Servers that
reject it (400/422, or a 404/501 from an older route) are remembered per model, and the call is
repeated without it: `decide` has already put the schema into the prompt, so it parses the text.
"""

import logging
import re
from collections.abc import Iterator
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

log = logging.getLogger(__name__)

_UNSUPPORTED = (openai.BadRequestError, openai.UnprocessableEntityError, openai.NotFoundError)


def response_format_for(schema: dict[str, Any]) -> dict[str, Any]:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "decision"))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


class OpenAICompatibleChatModel(ChatOpenAI):
    """`ChatOpenAI` that understands retinue's `response_schema` keyword, with a prompt-and-parse fallback."""

    _schema_unsupported: bool = PrivateAttr(False)

    def _with_format(self, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        schema = kwargs.pop("response_schema", None)
        if schema is None or self._schema_unsupported:
            return None
        return {**kwargs, "response_format": response_format_for(schema)}

    def _note_unsupported(self, error: Exception) -> None:
        self._schema_unsupported = True
        log.warning("%s rejected response_format (%s); parsing JSON from plain replies instead", self.model_name, error)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        formatted = self._with_format(kwargs)
        if formatted is not None:
            try:
                return super()._generate(messages, stop, run_manager, **formatted)
            except _UNSUPPORTED as error:
                self._note_unsupported(error)
        return super()._generate(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        formatted = self._with_format(kwargs)
        if formatted is not None:
            try:
                yield from super()._stream(messages, stop, run_manager, **formatted)
                return
            except _UNSUPPORTED as error:
                self._note_unsupported(error)
        yield from super()._stream(messages, stop, run_manager, **kwargs)
