"""The real OpenAI client path: langchain-openai against llama-cpp-python's OpenAI-compatible server."""

from typing import Literal

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from retinue.config import LLMConfig
from retinue.llms import UsageRecorder, decide, make_chat_model

pytestmark = pytest.mark.e2e


class Verdict(BaseModel):
    action: Literal["BUY", "SELL", "HOLD"]
    reason: str


def _model(url: str, usage: UsageRecorder):  # type: ignore[no-untyped-def]
    return make_chat_model(LLMConfig(provider="openai", base_url=url, model="gemma", max_tokens=64), usage=usage)


def test_streamed_answer(llama_server: str) -> None:
    usage = UsageRecorder()
    chunks = list(_model(llama_server, usage).stream([HumanMessage("Say hello to the market.")]))
    text = "".join(str(c.content) for c in chunks)
    assert len(chunks) > 2 and text.strip()
    assert usage.total().calls == 1


def test_structured_decision(llama_server: str) -> None:
    usage = UsageRecorder()
    model = _model(llama_server, usage)
    decision = decide(
        model,
        [HumanMessage("NFLX beat earnings. Decide.")],
        Verdict,
        default=Verdict(action="HOLD", reason="fallback"),
        usage=usage,
    )
    assert decision.valid, decision.fallback_reason
    assert model.structured_output_dialect == "json_object_with_schema"  # the grammar path, not prompt-only


def test_a_choice_reads_the_log_probabilities_of_the_options_numbers(llama_server: str) -> None:
    from retinue.llms.choice import ChoicePrompt, choose

    usage = UsageRecorder()
    model = _model(llama_server, usage)
    prompt = ChoicePrompt(
        [HumanMessage("NFLX beat earnings and raised guidance. Options: {options}")], ["BUY", "SELL", "HOLD"]
    )
    choice = choose(model, prompt, default="HOLD", role="manager", usage=usage)
    assert choice.valid and choice.method == "logprobs", choice.fallback_reason
    assert sum(choice.probabilities.values()) == pytest.approx(1.0)
    assert len({round(p, 6) for p in choice.probabilities.values()}) > 1  # read from the server, not uniform
    assert usage.total().calls == 1 and usage.total().prompt_tokens > 10
