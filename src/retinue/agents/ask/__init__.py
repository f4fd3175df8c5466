"""The one-shot team: answer prompts, as free text or as decisions that fit a JSON schema."""

from retinue.agents.ask.answer import answer_next, more_prompts
from retinue.agents.ask.state import Answer, AskContext, AskState

__all__ = ["Answer", "AskContext", "AskState", "answer_next", "more_prompts"]
