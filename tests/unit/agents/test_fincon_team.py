"""FinCon's day team with the scripted model: fan-out, manager decision, risk alert, weights."""

from datetime import date, timedelta

import numpy as np
import pytest

from retinue.agents.fincon import FinconContext, FinconMethod, risk_alert
from retinue.config import LLMConfig
from retinue.datasets.market_text import TextArchive, TextItem
from retinue.datasets.prices import PriceSeries
from retinue.envs.market import MarketEnv
from retinue.graphs.fincon import build_fincon_day_graph
from retinue.llms import ScriptedChatModel, UsageRecorder

START = date(2023, 1, 1)
READING = '{"signal": "positive", "key_point": "strong demand"}'


def _env() -> MarketEnv:
    closes = np.linspace(100, 130, 40)
    series = PriceSeries("X", tuple(START + timedelta(days=i) for i in range(40)), closes)
    return MarketEnv({"X": series}, START + timedelta(days=30), START + timedelta(days=39))


def _method(responses: list[object]) -> tuple[FinconMethod, ScriptedChatModel, UsageRecorder]:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    env = _env()
    archive = TextArchive(
        [
            TextItem(env.view(0).day - timedelta(days=1), "X", "news", "X beats estimates"),
            TextItem(START, "X", "10-Q", "revenue grew"),
        ]
    )
    context = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0), env=env, archive=archive)
    return FinconMethod(build_fincon_day_graph().compile(), context), model, usage


def test_analysts_report_and_the_manager_alone_decides() -> None:
    method, model, usage = _method([READING, READING, '{"action": "SELL", "confidence": 0.7, "reasons": "too high"}'])
    view = method.context.env.view(0)  # type: ignore[union-attr]
    decision = method(view, [], {})
    assert decision.weights == {"X": -1.0}
    assert "X SELL (0.70): too high" in decision.reasons
    manager_prompt = str(model.calls[-1].messages[-1].content)
    assert "data analyst (positive)" in manager_prompt  # 30 days of rising prices
    assert "news analyst (positive): strong demand" in manager_prompt
    assert "filings analyst (positive): strong demand" in manager_prompt
    assert set(usage.by_role) == {"news_analyst", "filings_analyst", "manager"}
    model.assert_all_used()


def test_a_risk_alert_makes_the_manager_risk_averse_and_hold_keeps_the_position() -> None:
    method, model, _ = _method([READING, READING, '{"action": "HOLD", "confidence": 0.5, "reasons": "wait"}'])
    view = method.context.env.view(1)  # type: ignore[union-attr]
    decision = method(view, [0.01, -0.02], {"X": 1.0})
    assert decision.weights == {"X": 1.0}
    assert "risk alert: the portfolio lost 2.00% yesterday" in decision.reasons
    assert any("Be risk-averse today" in str(m.content) for m in model.calls[-1].messages)


def test_invalid_manager_output_falls_back_to_hold() -> None:
    method, _, usage = _method([READING, READING, "nonsense", "{}", '{"action": "YOLO"}'])
    decision = method(method.context.env.view(0), [], {"X": -1.0})  # type: ignore[union-attr]
    assert decision.weights == {"X": -1.0} and "fallback" in decision.reasons
    assert usage.by_role["manager"].fallbacks == 1


def test_no_text_means_no_llm_call_for_that_analyst() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=['{"action": "BUY", "confidence": 1, "reasons": "trend"}'], callbacks=[usage])
    env = _env()
    context = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
    decision = FinconMethod(build_fincon_day_graph().compile(), context)(env.view(0), [], {})
    assert decision.weights == {"X": 1.0}
    prompt = str(model.calls[0].messages[-1].content)
    assert "no news about X" in prompt and "no 10-K or 10-Q for X" in prompt
    model.assert_all_used()


@pytest.mark.parametrize(
    "past, expected",
    [
        ([], None),
        ([0.01], None),
        ([0.01, -0.005], "lost 0.50%"),
        ([0.02, 0.01, 0.0, -0.03, 0.01, 0.001], None),
    ],
)
def test_risk_alert(past: list[float], expected: str | None) -> None:
    alert = risk_alert(past)
    assert (alert is None) if expected is None else (expected in str(alert))


def test_cvar_drop_raises_an_alert() -> None:
    # Yesterday's gain is positive but smaller than every earlier return, so the worst-5% tail got worse.
    assert "CVaR" in str(risk_alert([0.05, 0.04, 0.03, 0.001]))


def test_portfolio_mode_uses_mean_variance_weights_within_the_manager_signs() -> None:
    rng = np.random.default_rng(1)
    dates = tuple(START + timedelta(days=i) for i in range(80))
    prices = {t: PriceSeries(t, dates, 100 * np.exp(np.cumsum(rng.normal(0.001, 0.02, 80)))) for t in ("X", "Y", "Z")}
    env = MarketEnv(prices, dates[70], dates[79])
    usage = UsageRecorder()
    model = ScriptedChatModel(
        responses=[
            '{"action": "BUY", "confidence": 0.9, "reasons": "up"}',
            '{"action": "SELL", "confidence": 0.6, "reasons": "down"}',
            '{"action": "HOLD", "confidence": 0.5, "reasons": "unclear"}',
        ],
        callbacks=[usage],
    )
    context = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
    decision = FinconMethod(build_fincon_day_graph().compile(), context)(env.view(0), [], {})
    weights = env.check_weights(decision.weights)  # raises if bounds or the budget are broken
    assert 0 <= weights["X"] <= 1 and -1 <= weights["Y"] <= 0 and weights["Z"] == 0
    assert sum(abs(w) for w in weights.values()) <= 1 + 1e-9
    model.assert_all_used()
