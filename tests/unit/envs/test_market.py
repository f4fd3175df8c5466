import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from retinue.datasets.prices import PriceSeries, load_prices, read_price_csv
from retinue.envs.market import MarketEnv
from retinue.envs.market_baselines import BASELINES, buy_and_hold
from retinue.errors import RetinueError
from retinue.evaluation.backtest import backtest_metrics
from retinue.paths import data_root

TEST_START, TEST_END = date(2022, 10, 5), date(2023, 6, 10)
needs_data = pytest.mark.skipif(
    not (Path(__file__).resolve().parents[4] / "shared" / "data" / "market").is_dir(),
    reason="the shared market data is not beside the repository",
)


def _series(ticker: str, closes: list[float]) -> PriceSeries:
    start = date(2023, 1, 2)
    return PriceSeries(ticker, tuple(start + timedelta(days=i) for i in range(len(closes))), np.asarray(closes))


def _run(env: MarketEnv, strategy) -> list[float]:  # type: ignore[no-untyped-def]
    view, returns, done = env.reset(), [], False
    while not done:
        view, reward, done, _ = env.step(strategy(view))
        returns.append(reward)
    return returns


@needs_data
@pytest.mark.parametrize("ticker, expected", [("AMZN", 2.03), ("NFLX", 57.34)])
def test_buy_and_hold_anchors_from_the_paper(ticker: str, expected: float) -> None:
    env = MarketEnv(load_prices(data_root(), [ticker]), TEST_START, TEST_END)
    metrics = backtest_metrics(_run(env, buy_and_hold))
    assert round(metrics["cumulative_log_return_pct"], 2) == expected


def test_accounting_long_short_and_costs() -> None:
    env = MarketEnv({"X": _series("X", [100, 110, 99, 99])}, date(2023, 1, 2), date(2023, 1, 5), cost_bps=10)
    first = env.realize(0, {"X": 1.0}, {})
    assert first.log_return == pytest.approx(math.log(1.1) - 0.001)
    second = env.realize(1, {"X": -1.0}, first.weights)
    assert second.log_return == pytest.approx(-math.log(99 / 110) - 0.002)  # turnover 2
    # The short of the whole book gained as X fell 10 %: it is 0.9 / 1.1 of the book when it is closed.
    assert env.realize(2, {"X": 0.0}, second.weights).log_return == pytest.approx(-0.001 * 0.9 / 1.1)


def test_costs_are_charged_on_trades_not_on_price_drift() -> None:
    prices = {"A": _series("A", [100, 200, 200, 200]), "B": _series("B", [100, 100, 100, 100])}
    env = MarketEnv(prices, date(2023, 1, 2), date(2023, 1, 5), cost_bps=10)
    first = env.realize(0, {"A": 0.5, "B": 0.5}, {})
    assert first.cost == pytest.approx(0.001)  # buying the whole book
    # A doubled: the shares held are now 2/3 A and 1/3 B of the book, so keeping them trades nothing...
    assert env.drifted(1, first.weights) == pytest.approx({"A": 2 / 3, "B": 1 / 3})
    assert env.realize(1, {"A": 2 / 3, "B": 1 / 3}, first.weights).cost == pytest.approx(0.0)
    # ...while going back to half and half sells a sixth of the book of A and buys a sixth of B.
    assert env.realize(1, {"A": 0.5, "B": 0.5}, first.weights).cost == pytest.approx(0.001 / 3)
    held = env.realize(1, {"A": 2 / 3, "B": 1 / 3}, first.weights).weights
    assert env.realize(2, BASELINES["buy_and_hold"](env.view(2)), held).cost == pytest.approx(0.0)


def test_portfolio_weights_are_bounded() -> None:
    prices = {"A": _series("A", [1, 2, 3]), "B": _series("B", [1, 1, 1])}
    env = MarketEnv(prices, date(2023, 1, 2), date(2023, 1, 4))
    with pytest.raises(RetinueError, match="sum to at most 1"):
        env.realize(0, {"A": 0.8, "B": -0.5}, {})
    with pytest.raises(RetinueError, match=r"\[-1, 1\]"):
        env.realize(0, {"A": 1.5}, {})
    with pytest.raises(RetinueError, match="unknown ticker"):
        env.realize(0, {"Z": 0.1}, {})
    for name, strategy in BASELINES.items():
        for i in range(env.trading_days - 1):
            weights = env.check_weights(strategy(env.view(i)))
            assert sum(abs(w) for w in weights.values()) <= 1 + 1e-9, name


def test_no_look_ahead() -> None:
    rng = np.random.default_rng(0)
    closes = list(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 120))))
    changed = closes[:80] + [c * 3 for c in closes[80:]]
    start, end = date(2023, 1, 2) + timedelta(days=40), date(2023, 1, 2) + timedelta(days=119)
    original = MarketEnv({"X": _series("X", closes)}, start, end)
    altered = MarketEnv({"X": _series("X", changed)}, start, end)
    for name, strategy in BASELINES.items():
        for i in range(0, 40):  # window day i is history index 40 + i < 80
            assert strategy(original.view(i)) == strategy(altered.view(i)), name
            assert len(original.view(i).closes["X"]) == 41 + i


def test_window_errors_are_clear() -> None:
    prices = {"X": _series("X", [1, 2, 3])}
    with pytest.raises(RetinueError, match="outside the price data"):
        MarketEnv(prices, date(2022, 1, 1), date(2023, 1, 3))
    with pytest.raises(RetinueError, match="after end"):
        MarketEnv(prices, date(2023, 1, 4), date(2023, 1, 3))
    with pytest.raises(RetinueError, match="needs 2 or more"):
        MarketEnv(prices, date(2023, 1, 2), date(2023, 1, 2))


def test_bad_price_files_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "market" / "prices").mkdir(parents=True)
    bad = tmp_path / "market" / "prices" / "BAD.csv"
    bad.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2023-01-02,1,1,1,abc,1,1\n")
    with pytest.raises(RetinueError, match="line 2: bad Date or Close"):
        read_price_csv(bad, "BAD")
    bad.write_text("Day,Price\n2023-01-02,1\n")
    with pytest.raises(RetinueError, match="missing column"):
        read_price_csv(bad, "BAD")
    with pytest.raises(RetinueError, match="unknown ticker 'ZZZ'.*BAD"):
        load_prices(tmp_path, ["ZZZ"])
