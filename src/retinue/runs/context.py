"""What nodes receive through LangGraph's `Runtime.context`, and how they report progress."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.types import StreamWriter

from retinue.config import LLMConfig
from retinue.llms.structured import Decision, decide_as_configured
from retinue.llms.usage import UsageRecorder

T = TypeVar("T")


@dataclass(frozen=True)
class RunContext:
    """The model seam and its settings, shared by every node of a run."""

    llm: BaseChatModel
    usage: UsageRecorder
    llm_config: LLMConfig

    def decide(self, messages: Sequence[BaseMessage], schema: Any, *, default: T, role: str) -> Decision[T]:
        """A schema-constrained decision from the run's model, with its settings, counted in its usage."""
        return decide_as_configured(
            self.llm, self.llm_config, messages, schema, default=default, role=role, usage=self.usage
        )


def report_progress(writer: StreamWriter, task: str, completed: int, total: int) -> None:
    """A custom stream event that the run's progress bar follows."""
    writer({"progress": {"task": task, "completed": completed, "total": total}})
