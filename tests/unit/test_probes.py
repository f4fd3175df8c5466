"""Skill probes with scripted models: the metrics tell a position-bound model from one that reads."""

from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.llms.choice import Choice, ChoicePrompt
from retinue.llms.option_scores import OptionScores, ScoreRequest
from retinue.paths import data_root
from retinue.probes import ProbeCase, ProbePair, ask_pairs, orders, probe_metrics, probe_pairs, wilson
from retinue.runs.context import RunContext

ACTIONS = ("BUY", "SELL", "HOLD")


def _case(name: str, evidence: str, right: str) -> ProbeCase:
    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        prompt = ChoicePrompt([HumanMessage(f"Reports: {evidence}. Options: {{options}}")], list(ACTIONS))
        return ctx.choose(prompt, default="HOLD", role="manager", order=order)

    return ProbeCase(name, ACTIONS, frozenset([right]), ask)


PAIRS = [ProbePair(_case(f"{n}-bear", "bearish", "SELL"), _case(f"{n}-bull", "bullish", "BUY")) for n in range(10)]


class Reader(ScriptedChatModel):
    """Picks SELL on bearish reports and BUY on bullish ones, wherever they are listed."""

    def _next_text(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        request = ScoreRequest.from_kwargs(kwargs)
        assert request is not None
        wanted = "SELL" if "bearish" in str(messages[-1].content) else "BUY"
        return OptionScores([-0.1 if o == wanted else -3.0 for o in request.options], [1] * 3, "test").to_json()


def _run(model: ScriptedChatModel) -> dict[str, Any]:
    usage = UsageRecorder()
    context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0))
    return probe_metrics(PAIRS, list(ask_pairs(context, PAIRS)))


def test_a_model_that_always_picks_the_first_option_is_all_position_bias() -> None:
    metrics = _run(ScriptedChatModel(responses=[{"position": 1}] * 60))
    assert metrics["position_bias_rate"] == 1.0
    assert metrics["cases"] == 20 and metrics["asked"] == 60 and metrics["chance"] == pytest.approx(1 / 3, abs=1e-3)
    assert not metrics["skill_shown"] and metrics["accuracy_ci_low"] <= metrics["chance"]  # where it is listed


def test_a_model_that_reads_the_evidence_flips_with_it_and_ignores_the_order() -> None:
    metrics = _run(Reader(responses=[]))
    assert metrics["flip_rate"] == 1.0 and metrics["position_bias_rate"] == 0.0
    assert metrics["accuracy"] == 1.0 and metrics["skill_shown"]
    assert metrics["overconfidence"] == pytest.approx(metrics["mean_confidence"] - 1.0, abs=1e-4)
    assert metrics["overconfidence"] < 0  # right every time, with probabilities below 1
    assert metrics["accuracy_ci_low"] == pytest.approx(wilson(20, 20)[0], abs=1e-4)


def test_a_model_that_ignores_the_evidence_never_flips() -> None:
    metrics = _run(ScriptedChatModel(responses=["HOLD"] * 60))
    assert metrics["flip_rate"] == 0.0 and metrics["position_bias_rate"] == 0.0 and metrics["accuracy"] == 0.0
    assert metrics["most_picked"] == "HOLD" and metrics["most_picked_share"] == 1.0


def test_orders_move_every_option() -> None:
    shown = orders(_case("x", "bearish", "SELL"))
    assert len(shown) == 3 and all(sorted(o) == sorted(ACTIONS) for o in shown)
    for option in ACTIONS:
        assert len({o.index(option) for o in shown}) == 3  # each option at each position once
    assert wilson(0, 10)[0] == 0.0 and 0.69 < wilson(10, 10)[0] < 0.73


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_the_real_cases_put_a_first_option_model_at_position_bias_one(role: str) -> None:
    """The manager's and the analyst's cases from the data root, asked through the agents' own prompts."""
    pairs = probe_pairs(role, data_root(), data_root(), 3)
    assert len(pairs) == 3
    right = {c.name: c.correct for p in pairs for c in (p.case, p.flipped)}
    assert all(len(r) == 1 for r in right.values())
    assert {next(iter(p.case.correct)) != next(iter(p.flipped.correct)) for p in pairs} == {True}
    # every step serves the role's written part (reasons, key point) and its pick alike
    model = ScriptedChatModel(responses=[{"reasons": "r", "key_point": "k", "position": 1}] * 40)
    usage = UsageRecorder()
    context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0))
    answers = list(ask_pairs(context, pairs))
    assert probe_metrics(pairs, answers)["position_bias_rate"] == 1.0 and len(answers) == 18
