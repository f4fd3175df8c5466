"""The one function every agent uses for a decision: messages + schema in, a validated object out.

The schema goes to the model as constrained decoding where the provider has it (llama.cpp grammar,
OpenAI `response_format`) and as an instruction in the prompt for all. Output that does not parse or
validate is sent back with the error for another try; transport failures (timeouts, 429/5xx, broken
responses) are retried with backoff. When the tries run out the caller's safe default is returned,
logged and counted, so that a run always finishes and says what happened.
"""

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import jsonschema
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from retinue.config import LLMConfig
from retinue.llms.usage import ROLE_KEY, UsageRecorder

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures of the call itself, as opposed to a reply that does not fit the schema.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    openai.APIError,
    httpx.HTTPError,
    TimeoutError,
    ConnectionError,
    json.JSONDecodeError,
)

# Failures that no retry fixes: a wrong API key, model name or URL. `decide` lets them through, so that
# the run stops (and resumes once they are fixed) instead of falling back at every decision.
MISCONFIGURED: tuple[type[BaseException], ...] = (
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
)

SCHEMA_INSTRUCTION = "Reply with one JSON object and nothing else. It must follow this JSON schema:\n{schema}"
REPAIR_INSTRUCTION = "That reply was not valid: {error}\nReply again with only a JSON object that follows the schema."


class OutputSchema(Generic[T]):
    """A decision's shape: a pydantic model (values come back as instances) or a JSON schema (as dicts)."""

    def __init__(self, schema: type[BaseModel] | dict[str, Any]) -> None:
        if isinstance(schema, dict):
            jsonschema.Draft202012Validator.check_schema(schema)
            self.json_schema = schema
            self._model: type[BaseModel] | None = None
            self._validator: jsonschema.Draft202012Validator | None = jsonschema.Draft202012Validator(schema)
        else:
            self.json_schema = schema.model_json_schema()
            self._model = schema
            self._validator = None

    @property
    def name(self) -> str:
        return str(self.json_schema.get("title") or "decision")

    def parse(self, text: str) -> T:
        """The validated value, or ValueError saying what is wrong with `text`."""
        try:
            data = json.loads(text, strict=False)  # llama.cpp grammars let raw newlines into strings
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON ({error.msg} at position {error.pos})") from None
        if self._model is not None:
            try:
                return self._model.model_validate(data)  # type: ignore[return-value]
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in error.errors())
                raise ValueError(problems) from None
        assert self._validator is not None
        errors = sorted(self._validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            raise ValueError("; ".join(f"{'.'.join(map(str, e.path)) or 'object'}: {e.message}" for e in errors))
        return data  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Decision(Generic[T]):
    """What `decide` returns: the value, and whether it came from the model or is the fallback."""

    value: T
    valid: bool
    attempts: int
    raw: str | None = None
    fallback_reason: str | None = None


def decision_messages(messages: Sequence[BaseMessage], json_schema: dict[str, Any]) -> list[BaseMessage]:
    """The conversation `decide` sends: the schema as an instruction, then `messages` (what a model trained
    on decisions, such as agent-gemma's introspector examples, must be shown)."""
    return [SystemMessage(SCHEMA_INSTRUCTION.format(schema=json.dumps(json_schema))), *messages]


def decide(
    llm: BaseChatModel,
    messages: Sequence[BaseMessage],
    schema: type[BaseModel] | dict[str, Any] | OutputSchema[Any],
    *,
    default: T,
    role: str = "default",
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    usage: UsageRecorder | None = None,
) -> Decision[T]:
    """Ask `llm` for a decision that fits `schema`. Never raises for a bad reply or a failed call, only for
    an endpoint that refuses the key, the model or the URL (`MISCONFIGURED`)."""
    output = schema if isinstance(schema, OutputSchema) else OutputSchema(schema)
    conversation = decision_messages(messages, output.json_schema)
    config = {"metadata": {ROLE_KEY: role}}
    raw: str | None = None
    reason = "no attempt made"
    for attempt in range(1, attempts + 1):
        try:
            reply = llm.invoke(conversation, config=config, response_schema=output.json_schema)  # type: ignore[arg-type]
        except MISCONFIGURED:
            raise
        except TRANSPORT_ERRORS as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("%s: model call failed (attempt %d/%d): %s", role, attempt, attempts, reason)
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
            continue
        raw = str(reply.content)
        try:
            return Decision(value=output.parse(raw), valid=True, attempts=attempt, raw=raw)
        except ValueError as error:
            reason = f"invalid {output.name}: {error}"
            log.info("%s: %s (attempt %d/%d)", role, reason, attempt, attempts)
            conversation = [*conversation, AIMessage(raw), HumanMessage(REPAIR_INSTRUCTION.format(error=error))]
    log.warning("%s: falling back to the safe default after %d attempts (%s)", role, attempts, reason)
    if usage is not None:
        usage.record_fallback(role)
    return Decision(value=default, valid=False, attempts=attempts, raw=raw, fallback_reason=reason)


def decide_as_configured(
    llm: BaseChatModel,
    llm_config: LLMConfig,
    messages: Sequence[BaseMessage],
    schema: type[BaseModel] | dict[str, Any] | OutputSchema[Any],
    *,
    default: T,
    role: str,
    usage: UsageRecorder | None,
) -> Decision[T]:
    """`decide` with the tries and back-off of the run's model settings."""
    return decide(
        llm,
        messages,
        schema,
        default=default,
        role=role,
        attempts=llm_config.decision_attempts,
        backoff_seconds=llm_config.backoff_seconds,
        usage=usage,
    )
