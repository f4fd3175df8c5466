"""EffiQA (Dong et al., COLING 2025): the LLM plans and reflects, a trained plug-in model explores."""

from retinue.agents.effiqa.baselines import answer_alone, think_on_graph
from retinue.agents.effiqa.state import (
    METHODS,
    EffiQAContext,
    EffiQASettings,
    EffiQAState,
    QuestionResult,
)
from retinue.agents.effiqa.team import (
    after_link,
    after_reflect,
    answer_with_plugin,
    explore,
    link_question,
    next_question,
    plan,
    reflect,
)

__all__ = [
    "METHODS",
    "EffiQAContext",
    "EffiQASettings",
    "EffiQAState",
    "QuestionResult",
    "after_link",
    "after_reflect",
    "answer_alone",
    "answer_with_plugin",
    "explore",
    "link_question",
    "next_question",
    "plan",
    "reflect",
    "think_on_graph",
]
