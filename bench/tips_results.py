"""Introspective Tips' results table: normalized score and success per level, setting and method.

Games: `retinue games make` suites under --suites (default $RETINUE_HOME/tips-results/games), made here
when missing: per level, --train train games (seed 0, split train) and --test test games (seed 1, split
test); the seeds of every game are in each suite's manifest.json. Each cell (level x setting x method) is
a `retinue eval tips` run directory under --runs: a finished cell is read back, a stopped one resumed, so
the table can be filled over several sessions. Random and walkthrough give the bounds. Prints the table
and writes metrics.json and learning_curves.png (a line per cell); there is no target, the figures are
what the model achieves.

    python bench/tips_results.py [--levels 1,2,3,4] [--settings own,expert,cross]
        [--methods none,raw,reflexion,tips,random,walkthrough] [--train 5] [--test 20] [--trials 3]
        [--runs DIR] [--out DIR] [--no-run] [--llm ... and other `eval tips` model options after --]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _report import NO_RUN_HELP, save_metrics, skip_unfinished

from retinue.evaluation.games import plot_learning_curve
from retinue.paths import retinue_home

METHODS = ["random", "walkthrough", "none", "raw", "reflexion", "tips"]  # cheapest first


def ensure_suite(folder: Path, level: int, split: str, count: int, seed: int) -> None:
    manifest = folder / "manifest.json"
    if not manifest.exists() or len(json.loads(manifest.read_text())["games"]) < count:
        command = [sys.executable, "-m", "retinue.cli", "games", "make", "--levels", str(level), "--split", split]
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
    parser.add_argument("--levels", default="1,2,3,4")
    parser.add_argument("--settings", default="own,expert,cross")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--train", type=int, default=5, help="Train games per level.")
    parser.add_argument("--test", type=int, default=20, help="Test games per level.")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--suites", type=Path, default=None)
    parser.add_argument("--runs", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-run", action="store_true", help=NO_RUN_HELP)
    parser.add_argument("model_options", nargs="*", help="Passed to `eval tips` (e.g. -- --llm openai).")
    args = parser.parse_args()
    base = retinue_home() / "tips-results"
    suites, runs = args.suites or base / "games", args.runs or base / f"{args.test}-test-{args.trials}-trials"
    report: dict[str, float] = {}
    curves: dict[str, list[tuple[int, float]]] = {}
    print("| level | setting | method | normalized score | success | score per trial | LLM calls | wall s |")
    print("|---:|---|---|---:|---:|---|---:|---:|")
    for level in (int(x) for x in args.levels.split(",")):
        train, test = suites / f"L{level}-train", suites / f"L{level}-test"
        if not args.no_run:
            ensure_suite(train, level, "train", args.train, 0)
            ensure_suite(test, level, "test", args.test, 1)
        for setting in args.settings.split(","):
            for method in args.methods.split(","):
                if setting == "expert" and method == "reflexion":
                    continue
                if setting != "own" and method in ("random", "walkthrough", "none"):
                    continue  # they learn nothing: the own row is their figure
                options = ["--games", str(test), "--setting", setting, "--method", method, "--trials", str(args.trials)]
                options += [] if setting == "own" else ["--train-games", str(train)]
                m = run_cell(runs / f"L{level}-{setting}-{method}", options + args.model_options, args.no_run)
                if m is None and args.no_run:
                    continue
                if m is None:
                    print(f"| {level} | {setting} | {method} | failed | | | | |", flush=True)
                    continue
                trial_keys = sorted((k for k in m if k.startswith("normalized_score_trial_")), key=_trial)
                per_trial = " / ".join(f"{m[k]:.2f}" for k in trial_keys)
                print(
                    f"| {level} | {setting} | {method} | {m['normalized_score']:.3f} | {m['success_rate']:.2f} | "
                    f"{per_trial} | {m['run_llm_calls']} | {m['wall_seconds']:.0f} |",
                    flush=True,
                )
                report |= {f"L{level}_{setting}_{method}_{k}": v for k, v in m.items()}
                curves[f"L{level} {setting} {method}"] = [(_trial(k), m[k]) for k in trial_keys]
    save_metrics(report, args.out)
    if args.out is not None and curves:
        plot_learning_curve(args.out / "learning_curves.png", curves, "normalized score per trial, per cell")


def _trial(key: str) -> int:
    return int(key.rsplit("_", 1)[1])


if __name__ == "__main__":
    main()
