import numpy as np
import pytest

from retinue.envs.portfolio import mean_variance_weights, project_capped_simplex


def test_projection() -> None:
    assert project_capped_simplex(np.array([0.2, -0.1, 0.3])).tolist() == pytest.approx([0.2, 0.0, 0.3])
    projected = project_capped_simplex(np.array([0.9, 0.8, -0.5]))
    assert projected.sum() == pytest.approx(1.0) and projected.tolist() == pytest.approx([0.55, 0.45, 0.0])


@pytest.mark.parametrize("seed", range(5))
def test_weights_respect_signs_and_budget(seed: int) -> None:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.001, 0.02, size=(60, 4))
    directions = np.array([1, -1, 0, 1])
    weights = mean_variance_weights(returns, directions)
    assert 0 <= weights[0] <= 1 and -1 <= weights[1] <= 0 and weights[2] == 0 and 0 <= weights[3] <= 1
    assert np.abs(weights).sum() <= 1 + 1e-9


def test_the_better_asset_gets_more_and_risk_aversion_shrinks_the_book() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, size=(60, 2))
    returns = noise + np.array([0.004, 0.0005])
    weights = mean_variance_weights(returns, np.array([1, 1]), risk_aversion=5)
    assert weights[0] > weights[1]
    cautious = mean_variance_weights(returns, np.array([1, 1]), risk_aversion=500)
    assert np.abs(cautious).sum() < np.abs(weights).sum()
    assert mean_variance_weights(returns, np.array([0, 0])).tolist() == [0.0, 0.0]
