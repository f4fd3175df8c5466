"""EffiQA's results table: Hits@1 and LLM cost per question for effiqa, tog, io and plugin per hop count.

Each cell (method x hops) is a `retinue eval effiqa` run directory under --runs (default
$RETINUE_HOME/effiqa-results/N questions): a finished cell is read back, a stopped one resumed, so the
table can be filled over several sessions. All cells use the same seeded sample of the validation part
of MetaQA dev (which the explorer did not train on) and the same model. First the model's skill probes
for the planner and the reflector (`retinue probe`; "no skill shown" where the accuracy's interval
includes chance). Prints the table and the ratio of ToG's LLM calls per question to EffiQA's (target: at
least 3), and writes metrics.json.

    python bench/effiqa_results.py [--limit 500] [--methods effiqa,tog,io,plugin] [--hops 1,2,3]
                                   [--runs DIR] [--out DIR] [--explorer MODEL_DIR] [--no-run]
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _report import NO_RUN_HELP, OUT_HELP, finish, probe_summary, run_or_stop, skip_unfinished

from retinue.paths import retinue_home

METHODS = ["plugin", "effiqa", "io", "tog"]  # cheapest first
TARGET_HITS = {1: 0.95, 2: 0.90, 3: 0.85}


def run_cell(method: str, hops: int, runs: Path, args: argparse.Namespace) -> dict[str, float] | None:
    folder = runs / f"{method}-{hops}hop"
    metrics = folder / "metrics.json"
    if not metrics.exists():
        if args.no_run:
            skip_unfinished(f"{method} on {hops}-hop")
            return None
        command = [sys.executable, "-m", "retinue.cli", "eval", "effiqa"]
        if (folder / "run.json").exists():
            command += ["--resume", str(folder)]
        else:
            command += ["--method", method, "--hops", str(hops), "--limit", str(args.limit), "--out", str(folder)]
            command += ["--explorer", str(args.explorer)] if args.explorer else []
        print(f"running {method} on {hops}-hop: {' '.join(command[3:])}", flush=True)
        run_or_stop(command, f"{method} on {hops}-hop")
    return json.loads(metrics.read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500, help="Questions per hop count (seeded sample).")
    parser.add_argument("--methods", default=",".join(METHODS), help="Methods, comma-separated.")
    parser.add_argument("--hops", default="1,2,3", help="Hop counts, comma-separated.")
    parser.add_argument("--explorer", type=Path, default=None, help="Default: the registered kg-explorer.")
    parser.add_argument(
        "--runs", type=Path, default=None, help="Cell runs (default: $RETINUE_HOME/effiqa-results/LIMIT)."
    )
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    parser.add_argument("--no-run", action="store_true", help=NO_RUN_HELP)
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if unknown := [m for m in methods if m not in METHODS]:
        parser.error(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    hop_counts = [int(h) for h in args.hops.split(",")]
    runs = args.runs or retinue_home() / "effiqa-results" / str(args.limit)
    report: dict[str, Any] = dict(probe_summary(["planner", "reflector"], runs, [], args.no_run))
    print(f"model: {report.get('model', 'not probed')}")
    print("| method | hops | Hits@1 | Hits@1 answerable | LLM calls / q | tokens / q | s / q |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for hops in hop_counts:
        for method in methods:
            m = run_cell(method, hops, runs, args)
            if m is None:
                continue
            print(
                f"| {method} | {hops} | {m['hits_at_1']:.3f} | {m['hits_at_1_answerable']:.3f} | "
                f"{m['llm_calls_per_question']:.2f} | {m['tokens_per_question']:.0f} | "
                f"{m['seconds_per_question']:.2f} |",
                flush=True,
            )
            report |= {f"{method}_{hops}hop_{key}": value for key, value in m.items()}
    met, unchecked_parts = True, list[str]()
    for hops in hop_counts:
        if f"effiqa_{hops}hop_hits_at_1_answerable" not in report:
            unchecked_parts.append(f"{hops}-hop Hits@1 (no effiqa cell)")
            unchecked_parts.append(f"{hops}-hop call ratio (no effiqa cell)")
            continue
        met &= report[f"effiqa_{hops}hop_hits_at_1_answerable"] >= TARGET_HITS[hops]
        if f"tog_{hops}hop_llm_calls_per_question" not in report:
            unchecked_parts.append(f"{hops}-hop call ratio (no tog cell)")
            continue
        tog, effiqa = (report[f"{m}_{hops}hop_llm_calls_per_question"] for m in ("tog", "effiqa"))
        ratio = tog / effiqa
        report[f"tog_over_effiqa_calls_{hops}hop"] = round(ratio, 2)
        print(f"{hops}-hop: ToG makes {ratio:.2f}x the LLM calls of EffiQA per question")
        met &= ratio >= 3
    target = "effiqa Hits@1 >= 0.95/0.90/0.85 on answerable 1/2/3-hop, ToG/EffiQA calls >= 3"
    # A failed part fails the target; otherwise any part without its cells leaves it (partly) unchecked.
    checked_some = len(unchecked_parts) < 2 * len(hop_counts)
    unchecked = ("met where checked; " if checked_some else "") + "not checked: " + ", ".join(unchecked_parts)
    finish(report, target, None if met and unchecked_parts else met, args.out, unchecked=unchecked)


if __name__ == "__main__":
    main()
