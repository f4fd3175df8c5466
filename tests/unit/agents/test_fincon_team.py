"""FinCon's day team with the scripted model: fan-out, memory, manager decision, risk alert, weights."""

from datetime import date, timedelta

import numpy as np
import pytest

from retinue.agents.fincon import FinconContext, FinconMethod, risk_alert
from retinue.config import LLMConfig
from retinue.datasets.market_text import EARNINGS_CALL, TextArchive, TextItem
from retinue.datasets.prices import PriceSeries
from retinue.envs.market import MarketEnv
from retinue.graphs.fincon import build_fincon_day_graph
from retinue.llms import ScriptedChatModel, UsageRecorder
from tests.conftest import hash_store

START = date(2023, 1, 1)
# A text analyst writes its key point, then picks its signal; analysts run in parallel, so each scripted
# step serves either call: a valid key point as a decision, a pick as a choice.
READING = {"key_point": "strong demand", "pick": "positive"}


def manager_steps(action: str, reasons: str) -> list[object]:
    """The manager's two steps: its reasoning, then its pick (probability 0.9 with the scripted model)."""
    return [{"reasons": reasons}, action]


def _env() -> MarketEnv:
    closes = np.linspace(100, 130, 40)
    series = PriceSeries("X", tuple(START + timedelta(days=i) for i in range(40)), closes)
    return MarketEnv({"X": series}, START + timedelta(days=30), START + timedelta(days=39))


def _method(
    responses: list[object], beliefs: dict[str, str] | None = None
) -> tuple[FinconMethod, ScriptedChatModel, UsageRecorder]:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    env = _env()
    archive = TextArchive(
        [
            TextItem(env.view(0).day - timedelta(days=1), "X", "news", "X beats estimates"),
            TextItem(env.view(0).day, "X", "news", "X opens a new factory"),  # visible from the second day
            TextItem(START, "X", "10-Q", "revenue grew"),
            TextItem(START, "X", EARNINGS_CALL, "we raise our guidance", "2022_Q4"),
        ]
    )
    context = FinconContext(
        llm=model,
        usage=usage,
        llm_config=LLMConfig(backoff_seconds=0),
        env=env,
        archive=archive,
        beliefs=beliefs or {},
    )
    return FinconMethod(build_fincon_day_graph().compile(), context), model, usage


def _choices(model: ScriptedChatModel) -> list[str]:
    """The prompts of the choices the agents made (not their calibration), in order."""
    picks = [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]
    return [str(c.messages[-1].content) for c in picks]


def _prompt(model: ScriptedChatModel, opening: str) -> str:
    (prompt,) = [text for text in _choices(model) if text.startswith(opening)]
    return prompt


def test_analysts_report_and_the_manager_alone_decides() -> None:
    method, model, usage = _method([READING] * 6 + manager_steps("SELL", "too high"))
    view = method.context.env.view(0)  # type: ignore[union-attr]
    decision = method(view, [], {}, hash_store())
    assert decision.weights == {"X": -1.0}
    assert "X SELL (0.90): too high" in decision.reasons
    manager_prompt = _choices(model)[-1]
    assert "data analyst (positive)" in manager_prompt  # 30 days of rising prices
    for role in ("news", "filings", "earnings_call"):
        assert f"{role} analyst (positive): strong demand" in manager_prompt
    roles = {"news_analyst", "filings_analyst", "earnings_call_analyst", "manager"}
    assert set(usage.by_role) == roles | {f"{role}_calibration" for role in roles}
    assert "we raise our guidance" in _prompt(model, "You are an earnings-call analyst")
    assert "revenue grew" in _prompt(model, "You are a financial filings analyst")
    model.assert_all_used()


def test_each_agent_sees_only_the_belief_of_its_aspect() -> None:
    beliefs = {"news": "headlines overreact", "filings": "margins lead", "manager": "cut losers fast"}
    method, model, _ = _method([READING] * 6 + manager_steps("BUY", "r"), beliefs)
    method(method.context.env.view(0), [], {}, hash_store())  # type: ignore[union-attr]
    news, filings = _prompt(model, "You are a financial news"), _prompt(model, "You are a financial filings")
    calls, manager = _prompt(model, "You are an earnings-call"), _prompt(model, "You are the manager")
    assert "headlines overreact" in news and "margins lead" not in news and "cut losers" not in news
    assert "margins lead" in filings and "headlines overreact" not in filings
    assert "belief about earnings calls: none yet" in calls
    assert "cut losers fast" in manager and "headlines overreact" not in manager


def test_memory_carries_over_days_and_a_profitable_day_rewards_what_was_recalled() -> None:
    decision = manager_steps("BUY", "momentum")
    method, model, _ = _method([READING] * 6 + decision + [READING] * 6 + decision)
    env, store = method.context.env, hash_store()
    assert env is not None
    day0, day1 = env.view(0).day, env.view(1).day
    method(env.view(0), [], {}, store)
    (news,) = store.search(("fincon", "news_analyst", "X"))
    assert news.value["text"] == f"[news {day0 - timedelta(days=1)}] X beats estimates"
    assert news.value["importance"] == pytest.approx(51 * 0.92)  # short layer, one day old
    method(env.view(1), [0.02], {"X": 1.0}, store)
    news_prompts = [p for p in _choices(model) if p.startswith("You are a financial news")]
    assert "X opens a new factory" not in news_prompts[0] and "X opens a new factory" in news_prompts[1]
    assert "X beats estimates" in news_prompts[1]  # still remembered the next day
    rewarded = store.get(("fincon", "news_analyst", "X", "short"), news.key)
    assert rewarded is not None and rewarded.value["importance"] == pytest.approx(51 * 0.92**2 + 5)
    manager_prompt = _choices(model)[-1]
    assert f"{day0}: BUY X (momentum); the next day the portfolio returned +2.00%" in manager_prompt
    assert store.get(("fincon", "day", day1.isoformat()), "decided") is not None
    model.assert_all_used()


def test_a_losing_day_rewards_nothing() -> None:
    decision = manager_steps("BUY", "momentum")
    method, _, _ = _method([READING] * 6 + decision + [READING] * 6 + decision)
    env, store = method.context.env, hash_store()
    assert env is not None
    method(env.view(0), [], {}, store)
    method(env.view(1), [-0.01], {"X": 1.0}, store)
    (news,) = [i for i in store.search(("fincon", "news_analyst", "X")) if "beats" in i.value["text"]]
    assert news.value["importance"] == pytest.approx(51 * 0.92**2)


def test_a_risk_alert_makes_the_manager_risk_averse_and_hold_means_no_position() -> None:
    method, model, _ = _method([READING] * 2 + manager_steps("HOLD", "wait"))  # only the news is new on day 1
    view = method.context.env.view(1)  # type: ignore[union-attr]
    decision = method(view, [0.01, -0.02], {"X": 1.0}, hash_store())
    assert decision.weights == {"X": 0.0}  # FinMem's and FinCon's HOLD: out of the market that day
    assert "risk alert: the portfolio lost 2.00% yesterday" in decision.reasons
    manager_calls = [c for c in model.calls if str(c.messages[-1].content).startswith("You are the manager")]
    assert len(manager_calls) == 3  # its reasoning, its pick, the pick's calibration
    assert all(any("Be risk-averse today" in str(m.content) for m in c.messages) for c in manager_calls)
    model.assert_all_used()


def test_invalid_manager_output_falls_back_to_hold() -> None:
    method, _, usage = _method([READING] * 6 + [{"reasons": "r"}, "nonsense", "{}", '{"logprobs": 3}'])
    decision = method(method.context.env.view(0), [], {"X": -1.0}, hash_store())  # type: ignore[union-attr]
    assert decision.weights == {"X": 0.0} and "fallback" in decision.reasons
    assert usage.by_role["manager"].fallbacks == 1


def test_no_text_means_no_llm_call_for_that_analyst() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=manager_steps("BUY", "trend"), callbacks=[usage])
    env = _env()
    context = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
    decision = FinconMethod(build_fincon_day_graph().compile(), context)(env.view(0), [], {}, hash_store())
    assert decision.weights == {"X": 1.0}
    prompt = _choices(model)[0]
    for source in ("news", "10-K or 10-Q", "earnings call"):
        assert f"no {source} about X in memory" in prompt
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
        responses=manager_steps("BUY", "up") + manager_steps("SELL", "down") + manager_steps("HOLD", "unclear"),
        callbacks=[usage],
    )
    context = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
    decision = FinconMethod(build_fincon_day_graph().compile(), context)(env.view(0), [], {}, hash_store())
    weights = env.check_weights(decision.weights)  # raises if bounds or the budget are broken
    assert 0 <= weights["X"] <= 1 and -1 <= weights["Y"] <= 0 and weights["Z"] == 0
    assert sum(abs(w) for w in weights.values()) <= 1 + 1e-9
    model.assert_all_used()


class _Sentiment:
    def summary(self, texts: list[str]) -> str:
        return f"sentiment model on {len(texts)} items: 1 positive, 0 neutral, 0 negative; mean score +0.90"


def test_the_news_analyst_shows_the_sentiment_model_in_its_prompt_and_report() -> None:
    method, model, _ = _method([READING] * 6 + manager_steps("BUY", "r"))
    from dataclasses import replace

    method = FinconMethod(method.day_graph, replace(method.context, sentiment=_Sentiment()))  # type: ignore[arg-type]
    method(method.context.env.view(0), [], {}, hash_store())  # type: ignore[union-attr]
    assert "mean score +0.90" in _prompt(model, "You are a financial news")
    manager = _prompt(model, "You are the manager")
    assert "news analyst (positive): strong demand (sentiment model on 1 items" in manager
    assert "filings analyst (positive): strong demand\n" in manager  # only the news analyst consults it


def test_a_backtest_of_buy_hold_and_sell_earns_what_a_hand_computed_action_series_does() -> None:
    """FinMem's and FinCon's accounting: the day's action in {+1, -1, 0} times the next day's log return."""
    from langgraph.checkpoint.memory import InMemorySaver

    from retinue.agents.backtest import TradingContext
    from retinue.graphs import build_backtest_graph

    closes = [100.0, 104.0, 101.0, 95.0, 97.0, 103.0, 102.0]
    dates = tuple(START + timedelta(days=i) for i in range(len(closes)))
    env = MarketEnv({"X": PriceSeries("X", dates, np.array(closes))}, dates[0], dates[-1])
    actions = ["BUY", "HOLD", "SELL", "HOLD", "BUY", "SELL"]
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[s for a in actions for s in manager_steps(a, "r")], callbacks=[usage])
    fincon = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
    method = FinconMethod(build_fincon_day_graph().compile(), fincon)
    graph = build_backtest_graph().compile(checkpointer=InMemorySaver(), store=hash_store())
    state = graph.invoke(
        {"index": 0, "last": env.trading_days - 1, "days": []},
        {"configurable": {"thread_id": "t"}},
        context=TradingContext(env=env, decide=method, method="fincon"),
    )
    sign = {"BUY": 1, "SELL": -1, "HOLD": 0}
    expected = [sign[a] * np.log(closes[i + 1] / closes[i]) for i, a in enumerate(actions)]
    assert [d["weights"]["X"] for d in state["days"]] == [float(sign[a]) for a in actions]
    assert [d["log_return"] for d in state["days"]] == pytest.approx(expected)
    assert sum(d["log_return"] for d in state["days"]) == pytest.approx(
        np.log(104 / 100) - np.log(95 / 101) + np.log(103 / 97) - np.log(102 / 103)
    )
    model.assert_all_used()
