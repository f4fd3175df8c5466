import csv
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from retinue.datasets.prices import PriceSeries
from retinue.envs.market import DayRecord, MarketEnv
from retinue.envs.market_baselines import buy_and_hold, equal_weight
from retinue.evaluation.backtest import backtest_metrics
from retinue.evaluation.backtest_report import summarise, write_report, write_trades


def _env(cost_bps: float = 0.0) -> MarketEnv:
    start = date(2023, 1, 2)
    closes = {"UP": [10.0, 12.0, 15.0, 18.0], "DOWN": [10.0, 8.0, 7.0, 5.0]}
    dates = tuple(start + timedelta(days=i) for i in range(4))
    prices = {t: PriceSeries(t, dates, np.asarray(c)) for t, c in closes.items()}
    return MarketEnv(prices, dates[0], dates[-1], cost_bps=cost_bps)


def _days(env: MarketEnv, strategy) -> list[DayRecord]:  # type: ignore[no-untyped-def]
    days: list[DayRecord] = []
    previous: dict[str, float] = {}
    for index in range(env.trading_days - 1):
        view = env.view(index)
        result = env.realize(index, strategy(view), previous)
        prices = {t: view.close(t) for t in env.tickers}
        days.append(
            DayRecord(
                date=str(result.day),
                next_date=str(result.next_day),
                weights=result.weights,
                prices=prices,
                log_return=result.log_return,
                cost=result.cost,
                reasons="",
            )
        )
        previous = result.weights
    return days


@pytest.mark.parametrize("cost_bps", [0.0, 10.0])
def test_the_buy_and_hold_comparison_is_the_buy_and_hold_method_before_costs(cost_bps: float) -> None:
    env = _env(cost_bps)
    metrics, benchmark = summarise(_days(env, equal_weight), env)
    method = backtest_metrics([d["log_return"] + d["cost"] for d in _days(env, buy_and_hold)])
    assert metrics["buy_and_hold_cumulative_log_return_pct"] == pytest.approx(method["cumulative_log_return_pct"])
    assert metrics["buy_and_hold_sharpe_ratio"] == pytest.approx(method["sharpe_ratio"])
    # By hand, in the environment's accounting (weights drift with the shares bought on day 0):
    # .5 ln 1.2 + .5 ln .8, then .6 ln 1.25 + .4 ln .875, then 15/22 ln 1.2 + 7/22 ln(5/7) = 7.73 %.
    # The portfolio's value would say ln((18 + 5) / 20) = 13.98 %, which the old comparison reported.
    by_hand = (
        0.5 * math.log(1.2)
        + 0.5 * math.log(0.8)
        + 0.6 * math.log(1.25)
        + 0.4 * math.log(0.875)
        + 15 / 22 * math.log(1.2)
        + 7 / 22 * math.log(5 / 7)
    )
    assert metrics["buy_and_hold_cumulative_log_return_pct"] == pytest.approx(100 * by_hand, abs=1e-3)
    assert metrics["buy_and_hold_cumulative_log_return_pct"] < 100 * math.log(23 / 20) - 5
    assert len(benchmark) == env.trading_days - 1


def test_trades_name_the_day_s_trade_not_the_drift_of_what_is_held(tmp_path: Path) -> None:
    env = _env()
    write_trades(tmp_path / "bh.csv", _days(env, buy_and_hold), env)
    write_trades(tmp_path / "ew.csv", _days(env, equal_weight), env)

    def actions(name: str) -> list[tuple[str, str]]:
        with (tmp_path / name).open(newline="") as handle:
            return [(row["ticker"], row["action"]) for row in csv.DictReader(handle)]

    # Buy-and-hold buys both on day 0 and then holds, although its weights move (0.6 / 0.4 on day 1).
    assert actions("bh.csv") == [("DOWN", "BUY"), ("UP", "BUY")] + [("DOWN", "HOLD"), ("UP", "HOLD")] * 2
    # Equal weight keeps 0.5 / 0.5, so each day it sells the winner UP and buys the loser DOWN.
    assert actions("ew.csv") == [("DOWN", "BUY"), ("UP", "BUY")] + [("DOWN", "BUY"), ("UP", "SELL")] * 2


def test_the_report_reads_on_its_own(tmp_path: Path) -> None:
    env = _env()
    days = _days(env, equal_weight)
    write_trades(tmp_path / "trades.csv", days, env)
    metrics, _ = summarise(days, env)
    metrics |= {"trading_days": env.trading_days, "days_held": len(days)}
    write_report(
        tmp_path / "report.html",
        "equal_weight <on> UP, DOWN",
        metrics,
        "the equal_weight rule",
        tmp_path / "trades.csv",
    )
    page = (tmp_path / "report.html").read_text()
    assert "equal_weight &lt;on&gt; UP, DOWN" in page and "Decided by: the equal_weight rule." in page
    row = f"<tr><th>simple_return_pct</th><td>{metrics['simple_return_pct']}</td>"
    assert row + f"<td>{metrics['buy_and_hold_simple_return_pct']}</td></tr>" in page  # beside buy-and-hold
    assert f"annualised from {len(days)} held days" in page  # a short window's Sharpe carries a note
    assert page.count("<td>SELL</td>") == 2 and "equity.png" in page  # the trades, the picture
