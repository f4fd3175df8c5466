"""The `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

A `response_schema` keyword becomes a `response_format`, in the first dialect the server accepts:
OpenAI's `{"type": "json_schema", ...}` (OpenAI, vLLM, Ollama), then `{"type": "json_object", "schema": ...}`
(llama-cpp-python's server), then none at all: `decide` has already put the schema into the prompt, so
the reply is parsed as text. A rejection (400/404/422, or a 500 naming response_format) is remembered per
model, so it costs one request.

A `choice` keyword (`retinue.llms.choose`) lists the options by number and reads the log-probabilities of
the numbers from the reply's first token, where the server gives them (OpenAI, vLLM; llama-cpp-python's
server started with logits_all) and the options are at most nine; otherwise the reply is structured,
the options (already shuffled by `choose`) as the schema's enum, and the chosen one gets all the mass.
"""

import json
import logging
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

from retinue.llms.failures import BrokenResponseError
from retinue.llms.option_scores import OptionScores, ScoreRequest

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


NUMBERED_CHOICE = "{options}\nReply with the number of one option and nothing else."
LOGPROB_OPTIONS = 9  # more would need numbers that some tokenizers split into digits
TOP_LOGPROBS = 20
UNLISTED = 1.0  # an option missing from the top log-probs gets this much less than the least listed one


def numbered_options(options: list[str]) -> str:
    return NUMBERED_CHOICE.format(options="\n".join(f"{n}. {option}" for n, option in enumerate(options, 1)))


def scores_from_logprobs(logprobs: Any, count: int) -> OptionScores | None:
    """The options' scores from the first reply token's top log-probabilities (None if there are none)."""
    content = (logprobs or {}).get("content") or []
    if not content or not content[0].get("top_logprobs"):
        return None
    top = content[0]["top_logprobs"]
    found: dict[int, float] = {}
    for entry in top:
        text = str(entry.get("token", "")).strip().rstrip(".")
        if text.isdigit() and 1 <= int(text) <= count:
            found[int(text)] = max(found.get(int(text), -math.inf), float(entry["logprob"]))
    if not found:
        return None
    floor = min(float(entry["logprob"]) for entry in top) - UNLISTED
    return OptionScores([found.get(n, floor) for n in range(1, count + 1)], [1] * count, "logprobs")


class OpenAICompatibleChatModel(ChatOpenAI):
    """`ChatOpenAI` that understands retinue's `response_schema` and `choice` keywords, with a
    prompt-and-parse fallback for each."""

    _format_index: int = PrivateAttr(0)
    _logprobs_work: bool | None = PrivateAttr(None)

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

    def _choose(
        self, messages: list[BaseMessage], request: ScoreRequest, run_manager: CallbackManagerForLLMRun | None
    ) -> ChatResult:
        """Option scores for `request` (see the module doc), as one reply whose content is their JSON."""
        *head, last = messages
        # in the last message, not a message of its own: a separate turn is where some chat formats (and
        # base models) take up a new instruction instead of answering
        asked = [*head, last.model_copy(update={"content": f"{last.content}\n{numbered_options(request.options)}"})]
        usage: Any = None
        if self._logprobs_work is not False and len(request.options) <= LOGPROB_OPTIONS:
            try:
                result = self._generate(
                    asked, None, run_manager, logprobs=True, top_logprobs=TOP_LOGPROBS, max_tokens=2
                )
            except openai.APIStatusError as error:
                self._rejected_logprobs(error)
            else:
                generation = result.generations[0]
                usage = getattr(generation.message, "usage_metadata", None)
                # langchain-openai puts them in generation_info; invoke() would copy them to response_metadata
                found = (generation.generation_info or {}).get("logprobs")
                found = found or generation.message.response_metadata.get("logprobs")
                scores = scores_from_logprobs(found, len(request.options))
                self._logprobs_work = scores is not None
                if scores is not None:
                    return _scores_result(scores, usage)
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": list(request.options)}},
            "required": ["choice"],
            "additionalProperties": False,
        }
        result = self._generate(asked, None, run_manager, response_schema=schema)
        reply = result.generations[0].message
        try:
            picked = json.loads(str(reply.content), strict=False)["choice"]
        except (json.JSONDecodeError, KeyError, TypeError):
            picked = None
        if picked not in request.options:
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=str(reply.content)))])
        logprobs = [0.0 if option == picked else -math.inf for option in request.options]
        scores = OptionScores([lp if lp > -math.inf else -1e9 for lp in logprobs], [1] * len(logprobs), "structured")
        return _scores_result(scores, getattr(reply, "usage_metadata", None))

    def _rejected_logprobs(self, error: openai.APIStatusError) -> None:
        if not isinstance(error, _UNSUPPORTED | openai.InternalServerError):
            raise error
        log.warning("%s gives no log-probabilities (%s); choices use structured replies", self.model_name, error)
        self._logprobs_work = False

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = ScoreRequest.from_kwargs(kwargs)
        if request is not None:
            return self._choose(messages, request, run_manager)
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
        request = ScoreRequest.from_kwargs(kwargs)
        if request is not None:  # scores are not text for anyone to watch: one chunk, no tokens
            reply = self._choose(messages, request, run_manager).generations[0].message
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=reply.content, usage_metadata=getattr(reply, "usage_metadata", None))
            )
            return
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


def _scores_result(scores: OptionScores, usage: Any) -> ChatResult:
    message = AIMessage(content=scores.to_json(), usage_metadata=usage, response_metadata={"finish_reason": "scored"})
    return ChatResult(generations=[ChatGeneration(message=message)])
