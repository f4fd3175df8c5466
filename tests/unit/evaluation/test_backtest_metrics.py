import math

import pytest

from retinue.evaluation.backtest import backtest_metrics, drawdown_pct, equity_curve


def test_metrics_against_hand_computed_values() -> None:
    returns = [0.01, -0.02, 0.03, -0.01]
    metrics = backtest_metrics(returns)
    assert metrics["cumulative_log_return_pct"] == pytest.approx(1.0)
    assert metrics["simple_return_pct"] == pytest.approx(100 * (math.exp(0.01) - 1), abs=1e-4)  # where equity ends
    mean, std = 0.0025, math.sqrt(sum((r - 0.0025) ** 2 for r in returns) / 3)
    assert metrics["sharpe_ratio"] == pytest.approx(mean / std * math.sqrt(252), abs=1e-4)
    # equity 1, e^.01, e^-.01, e^.02, e^.01: the worst fall is from e^.01 to e^-.01
    assert metrics["max_drawdown_pct"] == pytest.approx(100 * (1 - math.exp(-0.02)), abs=1e-4)


def test_flat_returns_have_no_sharpe_and_no_drawdown() -> None:
    metrics = backtest_metrics([0.0, 0.0, 0.0])
    assert metrics == {
        "cumulative_log_return_pct": 0.0,
        "simple_return_pct": 0.0,
        "sharpe_ratio": 0.0,
        "max_drawdown_pct": 0.0,
        "annualised_volatility_pct": 0.0,
    }


def test_curves() -> None:
    assert equity_curve([math.log(2), -math.log(2)]).tolist() == pytest.approx([1, 2, 1])
    assert drawdown_pct([math.log(2), -math.log(2)]).tolist() == pytest.approx([0, 0, 50])
