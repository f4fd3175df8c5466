"""What nodes receive through LangGraph's `Runtime.context`, and how they report progress."""

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langgraph.types import StreamWriter

from retinue.config import LLMConfig
from retinue.llms.usage import UsageRecorder


@dataclass(frozen=True)
class RunContext:
    """The model seam and its settings, shared by every node of a run."""

    llm: BaseChatModel
    usage: UsageRecorder
    llm_config: LLMConfig


def report_progress(writer: StreamWriter, task: str, completed: int, total: int) -> None:
    """A custom stream event that the run's progress bar follows."""
    writer({"progress": {"task": task, "completed": completed, "total": total}})
