import math
from datetime import date, timedelta

import numpy as np
import pytest

from retinue.agents.fincon import analyse_prices
from retinue.datasets.prices import PriceSeries
from retinue.envs.market import MarketEnv
from retinue.evaluation.risk import conditional_value_at_risk, value_at_risk


def test_var_and_cvar_by_hand() -> None:
    returns = [-0.05, -0.03, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
    assert value_at_risk(returns, 0.2) == -0.03  # lower 20% quantile
    assert conditional_value_at_risk(returns, 0.2) == pytest.approx(-0.04)  # mean of -0.05, -0.03
    assert conditional_value_at_risk([], 0.05) == 0.0


def test_price_report_from_visible_history_only() -> None:
    closes = [100 * math.exp(0.01 * i) for i in range(80)]  # +1% log return a day
    start = date(2023, 1, 1)
    series = PriceSeries("X", tuple(start + timedelta(days=i) for i in range(80)), np.asarray(closes))
    env = MarketEnv({"X": series}, start + timedelta(days=60), start + timedelta(days=79))
    report = analyse_prices(env.view(0), "X")
    assert report.day == (start + timedelta(days=60)).isoformat()
    assert report.close == pytest.approx(closes[60])
    assert report.momentum_5d_pct == pytest.approx(5.0) and report.momentum_20d_pct == pytest.approx(20.0)
    assert report.volatility_20d_pct == pytest.approx(0.0, abs=1e-6)
    assert report.cvar_5pct_60d_pct == pytest.approx(1.0)
    assert report.trend == "up" and "X closed at" in report.summary()
