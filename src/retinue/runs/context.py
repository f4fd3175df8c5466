"""What nodes receive through LangGraph's `Runtime.context`, and how they report progress."""

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.types import StreamWriter

from retinue.config import LLMConfig
from retinue.llms.usage import RoleUsage, UsageRecorder

if TYPE_CHECKING:  # both load OpenAI's client; a run of a baseline asks no model and should not pay for it
    from retinue.llms.choice import Choice, ChoicePrompt
    from retinue.llms.structured import Decision

T = TypeVar("T")


@dataclass(frozen=True)
class RunContext:
    """The model seam and its settings, shared by every node of a run."""

    llm: BaseChatModel
    usage: UsageRecorder
    llm_config: LLMConfig

    def decide(
        self,
        messages: Sequence[BaseMessage],
        schema: Any,
        *,
        default: T,
        role: str,
        charge_to: MutableMapping[str, Any] | None = None,
    ) -> "Decision[T]":
        """A schema-constrained decision from the run's model, with its settings, counted in its usage; its
        calls (cache hits included) and tokens are also added to `charge_to["llm_calls"]` and `["tokens"]`."""
        from retinue.llms.structured import decide_as_configured

        before = self.usage.total()
        decision = decide_as_configured(
            self.llm, self.llm_config, messages, schema, default=default, role=role, usage=self.usage
        )
        self._charge(before, charge_to)
        return decision

    def choose(
        self,
        prompt: "ChoicePrompt",
        *,
        default: str,
        role: str,
        order: Sequence[str] | None = None,
        charge_to: MutableMapping[str, Any] | None = None,
    ) -> "Choice":
        """A pick from `prompt.options` by the run's model (`retinue.llms.choose`), with its settings and
        seed, counted like `decide`; `order` fixes the order the options are shown in (probes)."""
        from retinue.llms.choice import choose

        before = self.usage.total()
        choice = choose(
            self.llm,
            prompt,
            default=default,
            role=role,
            order=order,
            seed=self.llm_config.seed,
            attempts=self.llm_config.decision_attempts,
            backoff_seconds=self.llm_config.backoff_seconds,
            usage=self.usage,
        )
        self._charge(before, charge_to)
        return choice

    def _charge(self, before: RoleUsage, charge_to: MutableMapping[str, Any] | None) -> None:
        """Add the calls (cache hits included) and tokens made since `before` to `charge_to`."""
        if charge_to is None:
            return
        after = self.usage.total()
        calls = (after.calls + after.cache_hits) - (before.calls + before.cache_hits)
        tokens = (after.prompt_tokens + after.completion_tokens) - (before.prompt_tokens + before.completion_tokens)
        charge_to["llm_calls"] = charge_to.get("llm_calls", 0) + calls
        charge_to["tokens"] = charge_to.get("tokens", 0) + tokens


def report_progress(writer: StreamWriter, task: str, completed: int, total: int) -> None:
    """A custom stream event that the run's progress bar follows."""
    writer({"progress": {"task": task, "completed": completed, "total": total}})
