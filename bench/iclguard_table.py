"""ICLGuard's table on Gemma 3 270M: ICL accuracy on each of the four sets, original vs guarded, per guarded target.

Each row is one `retinue train iclguard --target T` run directory under --runs (default
$RETINUE_HOME/iclguard-table/P-prompts-S-steps): a finished run is read back, so the table can be filled over
several sessions; a run that stopped is started again. Prints, per target, the accuracy on every set as
original -> guarded (the guarded set first), the drop on the target, the largest change elsewhere and the
plain-text perplexity, and writes metrics.json. There is no target: the figures are what this model does
(the paper's, on LLaMA-13B: the target's accuracy falls to 0.13-0.41, the others mostly stay within 0.02).

    python bench/iclguard_table.py [--targets fpb,sst2,trec,agnews] [--prompts 32] [--steps 50] [--lr 3e-3]
                                   [--eval-queries 50] [--held-blocks 16] [--runs DIR] [--out DIR]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _report import save_metrics

from retinue.datasets.classification import LOADERS
from retinue.paths import retinue_home

SETS = list(LOADERS)  # the four ICL data sets, in the order `train iclguard` reports them


def run_target(target: str, runs: Path, args: argparse.Namespace) -> dict[str, float] | None:
    folder = runs / f"iclguard-{target}"
    metrics = folder / "metrics.json"
    if not metrics.exists():
        command = [sys.executable, "-m", "retinue.cli", "train", "iclguard", "--target", target]
        command += ["--prompts", str(args.prompts), "--steps", str(args.steps), "--lr", str(args.lr)]
        command += ["--eval-queries", str(args.eval_queries), "--held-blocks", str(args.held_blocks)]
        print(f"running {folder.name}: {' '.join(command[3:])}", flush=True)
        if subprocess.run([*command, "--out", str(folder)], check=False).returncode != 0:
            return None
    return json.loads(metrics.read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(SETS))
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-queries", type=int, default=50)
    parser.add_argument("--held-blocks", type=int, default=16)
    parser.add_argument("--runs", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    runs = args.runs or retinue_home() / "iclguard-table" / f"{args.prompts}-prompts-{args.steps}-steps"
    rows = {target: run_target(target, runs, args) for target in args.targets.split(",")}
    print(f"\nICL accuracy, {args.eval_queries} queries per set, original -> guarded\n")
    print("| guarded | " + " | ".join(SETS) + " | target drop | largest change elsewhere | plain ppl |")
    print("|---|" + "---:|" * (len(SETS) + 3))
    report: dict[str, float] = {}
    for target, m in rows.items():
        if m is None:
            print(f"| {target} | (the run failed; see its output above) |")
            continue
        cells = [f"{m[f'{s}_icl_accuracy_original']:.2f} -> {m[f'{s}_icl_accuracy_guarded']:.2f}" for s in SETS]
        change = {s: m[f"{s}_icl_accuracy_guarded"] - m[f"{s}_icl_accuracy_original"] for s in SETS}
        elsewhere = max((change[s] for s in SETS if s != target), key=abs)
        ppl = f"{m['plain_ppl_original']:.1f} -> {m['plain_ppl_guarded']:.1f}"
        print(f"| {target} | " + " | ".join(cells) + f" | {-change[target]:+.2f} | {elsewhere:+.2f} | {ppl} |")
        report |= {f"{target}_guarded_{key}": value for key, value in m.items()}
    save_metrics(report, args.out)


if __name__ == "__main__":
    main()
