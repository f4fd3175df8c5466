from pathlib import Path
from typing import Any

import matplotlib.image

from retinue.evaluation.games import game_metrics, learning_curve, line_styles, plot_learning_curve


def _episode(trial: int, score: float, phase: str = "eval", won: bool = False) -> dict[str, Any]:
    return {
        "trial": trial,
        "phase": phase,
        "normalized_score": score,
        "won": won,
        "steps": 10,
        "invalid_actions": 1,
        "llm_calls": 10,
        "tokens": 100,
    }


def test_only_eval_episodes_are_scored_and_train_ones_reported_apart() -> None:
    episodes = [_episode(1, 0.5), _episode(1, 1.0, won=True), _episode(2, 0.25), _episode(1, 0.0, phase="train")]
    metrics = game_metrics(episodes)
    assert metrics["normalized_score"] == round((0.5 + 1.0 + 0.25) / 3, 4)
    assert metrics["normalized_score_trial_1"] == 0.75 and metrics["normalized_score_trial_2"] == 0.25
    assert metrics["success_rate_trial_1"] == 0.5 and metrics["invalid_action_rate"] == 0.1
    assert metrics["train_episodes"] == 1 and metrics["train_normalized_score"] == 0.0
    assert learning_curve(episodes) == [(1, 0.75), (2, 0.25)]


def test_learning_curves_get_a_panel_each(tmp_path: Path) -> None:
    many = {f"method {i}": [(1, 0.0), (2, 0.1 * i), (3, 0.0)] for i in range(12)}  # more lines than markers (8)
    plot_learning_curve(tmp_path / "one.png", {"level 1": many}, "per trial")
    panels = {"level 1": many, "level 2": many, "1,2 → 3,4": {"tips": [(1, 0.0)]}}
    plot_learning_curve(tmp_path / "three.png", panels, "per trial")
    one, three = matplotlib.image.imread(tmp_path / "one.png"), matplotlib.image.imread(tmp_path / "three.png")
    assert three.shape[1] > 2 * one.shape[1]  # side by side, each with its legend below
    assert one.shape[0] > one.shape[1] / 2  # the legend of 12 lines is in the picture, not cut off


def test_a_label_keeps_its_style_in_every_panel() -> None:
    styles = line_styles(["own none", "own tips", "cross tips", "own none", "cross tips"])
    assert list(styles) == ["own none", "own tips", "cross tips"]
    assert len({(s["color"], s["marker"]) for s in styles.values()}) == 3
    assert styles["own none"]["markersize"] > styles["own tips"]["markersize"] > styles["cross tips"]["markersize"]
