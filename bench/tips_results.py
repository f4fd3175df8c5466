"""Introspective Tips' results table: normalized score and success per level, setting and method.

Games: `retinue games make` suites under --suites (default $RETINUE_HOME/tips-results/games), made here
when missing: per level, --train train games (seed 0, split train) and --test test games (seed 1, split
test); the seeds of every game are in each suite's manifest.json. Each cell (level x setting x method) is
a `retinue eval tips` run directory under --runs: a finished cell is read back, a stopped one resumed, so
the table can be filled over several sessions. Random and walkthrough give the bounds. After the
per-level rows, --cross-levels TRAIN:TEST (default 1,2:3,4) adds cross cells that learn on the train
games of the first levels and play the test games of the others once, each suite made with all its
levels (the same games as the per-level suites: a game's seed depends on its level and index only).
Prints the table and writes metrics.json and learning_curves.png (a panel per level, a line per cell);
there is no target, the figures are what the model achieves. First the model's skill probe for the
actor (`retinue probe --role actor`, with the same model options).

    python bench/tips_results.py [--levels 1,2,3,4] [--settings own,expert,cross]
        [--methods none,raw,reflexion,tips,random,walkthrough] [--cross-levels 1,2:3,4 | ""] [--train 5]
        [--test 20] [--trials 3] [--runs DIR] [--out DIR] [--no-run] [--llm ... and other `eval tips`
        model options after --]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _report import NO_RUN_HELP, OUT_HELP, probe_summary, save_metrics, skip_unfinished

from retinue.envs.textworld_suite import parse_levels
from retinue.errors import RetinueError
from retinue.evaluation.games import plot_learning_curve
from retinue.paths import retinue_home

METHODS = ["random", "walkthrough", "none", "raw", "reflexion", "tips"]  # cheapest first


def ensure_suite(folder: Path, levels: str, split: str, count: int, seed: int) -> None:
    """`count` games per level of `levels` ("1" or "1,2") in `folder`, made unless already there."""
    manifest = folder / "manifest.json"
    wanted = count * len(levels.split(","))
    if not manifest.exists() or len(json.loads(manifest.read_text())["games"]) < wanted:
        command = [sys.executable, "-m", "retinue.cli", "games", "make", "--levels", levels, "--split", split]
        subprocess.run([*command, "--count", str(count), "--seed", str(seed), "--out", str(folder)], check=True)


def run_cell(folder: Path, options: list[str], no_run: bool) -> dict[str, float] | None:
    metrics = folder / "metrics.json"
    if not metrics.exists():
        if no_run:
            skip_unfinished(folder.name)
            return None
        command = [sys.executable, "-m", "retinue.cli", "eval", "tips"]
        command += ["--resume", str(folder)] if (folder / "run.json").exists() else [*options, "--out", str(folder)]
        print(f"running {folder.name}: {' '.join(command[3:])}", flush=True)
        if subprocess.run(command, check=False).returncode != 0:
            return None
    return json.loads(metrics.read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,2,3,4", help="Levels with a row each (1-5).")
    parser.add_argument("--settings", default="own,expert,cross", help="own, expert and/or cross.")
    parser.add_argument("--methods", default=",".join(METHODS), help="Methods, comma-separated.")
    parser.add_argument("--cross-levels", default="1,2:3,4", help='Learn on these levels, test on those ("" for none).')
    parser.add_argument("--train", type=int, default=5, help="Train games per level.")
    parser.add_argument("--test", type=int, default=20, help="Test games per level.")
    parser.add_argument("--trials", type=int, default=3, help="Trials per game (own, expert; cross's train games).")
    parser.add_argument(
        "--suites", type=Path, default=None, help="Game suites (default: $RETINUE_HOME/tips-results/games)."
    )
    parser.add_argument(
        "--runs", type=Path, default=None, help="Cell runs (default: under $RETINUE_HOME/tips-results)."
    )
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    parser.add_argument("--no-run", action="store_true", help=NO_RUN_HELP)
    parser.add_argument("model_options", nargs="*", help="Passed to `eval tips` (e.g. -- --llm openai).")
    args = parser.parse_args()
    base = retinue_home() / "tips-results"
    suites, runs = args.suites or base / "games", args.runs or base / f"{args.test}-test-{args.trials}-trials"
    report: dict[str, Any] = dict(probe_summary(["actor"], runs, args.model_options, args.no_run))
    print(f"model: {report.get('model', 'not probed')}")
    curves: dict[str, dict[str, list[tuple[int, float]]]] = {}  # level -> cell -> (trial, score)
    print("| level | setting | method | normalized score | success | score per trial | LLM calls | wall s |")
    print("|---:|---|---|---:|---:|---|---:|---:|")
    cells: list[tuple[str, str, str, Path, Path, str]] = []  # label, setting, method, train, test, cell name
    for level in args.levels.split(","):
        train, test = suites / f"L{level}-train", suites / f"L{level}-test"
        if not args.no_run:
            ensure_suite(train, level, "train", args.train, 0)
            ensure_suite(test, level, "test", args.test, 1)
        for setting in args.settings.split(","):
            for method in args.methods.split(","):
                if _is_cell(setting, method):
                    cells.append((level, setting, method, train, test, f"L{level}-{setting}-{method}"))
    if args.cross_levels:
        learn, play = _cross_levels(args.cross_levels)
        learn_tag, play_tag = "".join(map(str, learn)), "".join(map(str, play))  # [1, 2] -> "12"
        train, test = suites / f"L{learn_tag}-train", suites / f"L{play_tag}-test"
        if not args.no_run:
            ensure_suite(train, ",".join(map(str, learn)), "train", args.train, 0)
            ensure_suite(test, ",".join(map(str, play)), "test", args.test, 1)
        label = f"{','.join(map(str, learn))} → {','.join(map(str, play))}"
        for method in args.methods.split(","):
            if _is_cell("cross", method):
                cells.append((label, "cross", method, train, test, f"L{learn_tag}-to-L{play_tag}-cross-{method}"))
    for label, setting, method, train, test, name in cells:
        options = ["--games", str(test), "--setting", setting, "--method", method, "--trials", str(args.trials)]
        options += [] if setting == "own" else ["--train-games", str(train)]
        m = run_cell(runs / name, options + args.model_options, args.no_run)
        if m is None and args.no_run:
            continue
        if m is None:
            print(f"| {label} | {setting} | {method} | failed | | | | |", flush=True)
            continue
        trial_keys = sorted((k for k in m if k.startswith("normalized_score_trial_")), key=_trial)
        per_trial = " / ".join(f"{m[k]:.2f}" for k in trial_keys)
        print(
            f"| {label} | {setting} | {method} | {m['normalized_score']:.3f} | {m['success_rate']:.2f} | "
            f"{per_trial} | {m['run_llm_calls']} | {m['wall_seconds']:.0f} |",
            flush=True,
        )
        report |= {f"{name.replace('-', '_')}_{k}": v for k, v in m.items()}
        curves.setdefault(f"level {label}", {})[f"{setting} {method}"] = [(_trial(k), m[k]) for k in trial_keys]
    save_metrics(report, args.out)
    if args.out is not None and curves:
        plot_learning_curve(args.out / "learning_curves.png", curves, "normalized score per trial, per cell")


def _is_cell(setting: str, method: str) -> bool:
    """Whether (setting, method) is a cell: random, walkthrough and none learn nothing, so their own row is
    their figure in every setting; reflexion reflects on its own failed attempts, which expert has not."""
    if setting == "expert" and method == "reflexion":
        return False
    return setting == "own" or method not in ("random", "walkthrough", "none")


def _cross_levels(text: str) -> tuple[list[int], list[int]]:
    """Split "1,2:3,4" into ([1, 2], [3, 4]), or exit naming what is wrong."""
    learn, sep, play = text.partition(":")
    if not sep:
        sys.exit(f"--cross-levels: {text!r} is not TRAIN_LEVELS:TEST_LEVELS (e.g. 1,2:3,4)")
    try:
        return parse_levels(learn, "--cross-levels"), parse_levels(play, "--cross-levels")
    except RetinueError as error:
        sys.exit(str(error))


def _trial(key: str) -> int:
    return int(key.rsplit("_", 1)[1])


if __name__ == "__main__":
    main()
