"""CVRF with the scripted model: tau, insights, belief revision, routing to the store, idempotence."""

import json

import pytest

from retinue.agents.backtest import DayRecord
from retinue.agents.fincon.cvrf import Episode, action_overlap, load_beliefs, reinforce
from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.memory.namespaces import FINCON_CVRF
from tests.conftest import hash_store


def _days(weights: list[dict[str, float]], returns: list[float]) -> list[DayRecord]:
    return [
        DayRecord(
            date=f"2022-01-{i + 3:02d}",
            next_date=f"2022-01-{i + 4:02d}",
            weights=w,
            prices={},
            log_return=r,
            cost=0.0,
            reasons=f"X {'BUY' if w['X'] > 0 else 'SELL' if w['X'] < 0 else 'HOLD'} on day {i}",
        )
        for i, (w, r) in enumerate(zip(weights, returns, strict=True))
    ]


LONG, SHORT, FLAT = {"X": 1.0}, {"X": -1.0}, {"X": 0.0}
FIRST = Episode(1, _days([LONG, LONG, SHORT, FLAT], [0.01, -0.02, 0.01, 0.0]))  # -0.00 %
SECOND = Episode(2, _days([LONG, SHORT, SHORT, LONG], [0.01, 0.02, 0.01, 0.005]))  # +4.5 %
INSIGHTS = {
    "data": "trust 5-day momentum reversals",
    "news": "big headlines fade within days",
    "filings": "rising margins precede gains",
    "earnings_call": "raised guidance is bullish",
    "manager": "cut a long position after a losing day",
}


def test_tau_is_the_overlap_of_the_action_sequences() -> None:
    assert action_overlap(FIRST, SECOND) == pytest.approx(2 / 4)  # days 1 and 3 agree
    assert action_overlap(FIRST, FIRST) == 1.0
    assert FIRST.trades == 3 and SECOND.trades == 3
    assert SECOND.cumulative_log_return_pct == pytest.approx(4.5)


def test_a_step_writes_insights_into_the_beliefs_of_only_their_aspects() -> None:
    store = hash_store()
    store.put(("fincon", "beliefs"), "manager", {"text": "hold winners", "episode": 1})
    usage = UsageRecorder()
    model = ScriptedChatModel(
        responses=[json.dumps(INSIGHTS), '{"belief": "hold winners, but cut a long after a losing day"}'],
        callbacks=[usage],
    )
    record = reinforce(model, LLMConfig(backoff_seconds=0), usage, store, FIRST, SECOND)
    model.assert_all_used()
    assert record["tau"] == 0.5 and record["better"] == 2
    comparison = str(model.calls[0].messages[-1].content)
    assert "Better: episode 2: return +4.50%, 3 trades" in comparison
    assert "2022-01-04: better did X SELL on day 1 | worse did X BUY on day 1" in comparison
    revision = str(model.calls[1].messages[-1].content)
    assert "Current belief: hold winners" in revision and "Learning rate: 0.50" in revision
    assert load_beliefs(store) == {  # a first insight becomes the belief, without a call
        **INSIGHTS,
        "manager": "hold winners, but cut a long after a losing day",
    }
    assert usage.by_role["risk_control"].calls == 2


def test_a_step_is_taken_once_and_a_bad_reply_keeps_the_beliefs() -> None:
    store = hash_store()
    store.put(("fincon", "beliefs"), "news", {"text": "headlines overreact", "episode": 1})
    model = ScriptedChatModel(responses=["nonsense", "{}", '{"data": 3}'])
    record = reinforce(model, LLMConfig(backoff_seconds=0), None, store, FIRST, SECOND)
    assert record["insights"] == dict.fromkeys(INSIGHTS, "")
    assert load_beliefs(store) == {"news": "headlines overreact"}
    again = ScriptedChatModel(responses=[])
    assert reinforce(again, LLMConfig(), None, store, FIRST, SECOND) == record  # done: no call
    assert store.get(FINCON_CVRF, "2") is not None
