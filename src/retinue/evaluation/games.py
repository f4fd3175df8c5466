"""Scores of played TextWorld episodes: metrics.json, episodes.jsonl and the learning curve.

Only "eval" episodes are scored (cross's train episodes are reported apart, with a `train_` prefix).
normalized_score is the mean of score / max score; per-trial values show learning across trials.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def game_metrics(episodes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Flat metrics over the eval episodes, per trial, and over the train episodes when there are any."""
    scored = [e for e in episodes if e["phase"] == "eval"]
    metrics = _summary(scored)
    for trial, group in sorted(_by_trial(scored).items()):
        summary = _summary(group)
        metrics[f"normalized_score_trial_{trial}"] = summary["normalized_score"]
        metrics[f"success_rate_trial_{trial}"] = summary["success_rate"]
    training = [e for e in episodes if e["phase"] == "train"]
    if training:
        metrics |= {f"train_{key}": value for key, value in _summary(training).items()}
    return metrics


def _summary(episodes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    steps = sum(e["steps"] for e in episodes)
    return {
        "episodes": len(episodes),
        "normalized_score": round(mean(e["normalized_score"] for e in episodes), 4) if episodes else 0.0,
        "success_rate": round(mean(1.0 if e["won"] else 0.0 for e in episodes), 4) if episodes else 0.0,
        "mean_steps": round(steps / len(episodes), 2) if episodes else 0.0,
        "invalid_action_rate": round(sum(e["invalid_actions"] for e in episodes) / steps, 4) if steps else 0.0,
        "llm_calls": sum(e["llm_calls"] for e in episodes),
        "tokens": sum(e["tokens"] for e in episodes),
    }


def _by_trial(episodes: Sequence[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for episode in episodes:
        groups[episode["trial"]].append(episode)
    return groups


def write_episodes(path: Path, episodes: Sequence[dict[str, Any]]) -> None:
    """One line per step of every episode: game, trial, phase, step, command, observation, score."""
    with path.open("w", encoding="utf-8") as lines:
        for episode in episodes:
            head = {k: episode[k] for k in ("game", "level", "trial", "phase")}
            for record in episode["trajectory"]:
                lines.write(json.dumps(head | dict(record)) + "\n")


def plot_learning_curve(path: Path, panels: dict[str, dict[str, list[tuple[int, float]]]], title: str) -> None:
    """Normalized score per trial: a panel per key of `panels` (a level, say), a line per method run in it.

    Lines that coincide (several methods at 0, say) stay told apart by their markers; a method has the
    same colour and marker in every panel; each panel's legend sits below it, so any number of lines fits."""
    figure, axes = plt.subplots(1, len(panels), figsize=(1.5 + 4.5 * len(panels), 3.6), sharey=True, squeeze=False)
    styles = line_styles([label for curves in panels.values() for label in curves])
    last_trial = max(
        (trial for curves in panels.values() for points in curves.values() for trial, _ in points), default=1
    )
    for axis, (panel, curves) in zip(axes[0], panels.items(), strict=True):
        for label, points in curves.items():
            axis.plot([trial for trial, _ in points], [score for _, score in points], label=label, **styles[label])
        axis.set_xlabel("trial")
        axis.set_xlim(0.7, last_trial + 0.3)  # a one-trial panel (cross) gets the same axis as the others
        axis.set_ylim(-0.02, 1.05)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(panel)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    axes[0][0].set_ylabel("normalized score")
    figure.suptitle(title, y=1.04)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def line_styles(labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A colour, marker and marker size per distinct label, in order of first appearance; later lines get
    smaller markers so that coinciding points stay visible."""
    distinct = list(dict.fromkeys(labels))
    colours, markers = plt.get_cmap("tab20"), "osD^vPX*"
    return {
        label: {
            "color": colours(index % colours.N),
            "marker": markers[index % len(markers)],
            "markersize": 9 - 4 * index / len(distinct),
        }
        for index, label in enumerate(distinct)
    }


def learning_curve(episodes: Sequence[dict[str, Any]]) -> list[tuple[int, float]]:
    """(trial, normalized score) of the eval episodes."""
    return [
        (trial, round(mean(e["normalized_score"] for e in group), 4))
        for trial, group in sorted(_by_trial([e for e in episodes if e["phase"] == "eval"]).items())
    ]
