"""State and context of the ask team."""

import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from retinue.runs.context import RunContext


class Answer(TypedDict):
    """One prompt's outcome. `value` is the validated object when a schema was given."""

    prompt: str
    text: str | None
    value: Any
    valid: bool
    attempts: int
    fallback_reason: str | None


class AskState(TypedDict):
    prompts: list[str]
    answers: Annotated[list[Answer], operator.add]


@dataclass(frozen=True)
class AskContext(RunContext):
    """The run context plus the JSON schema that answers must fit (None for free text)."""

    schema: dict[str, Any] | None = None
