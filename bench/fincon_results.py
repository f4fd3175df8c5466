"""FinCon's results table: FinCon on the embedded model over the paper's test window, per ticker and portfolio.

Each case is a `retinue backtest --method fincon` run directory under --runs (default
$RETINUE_HOME/fincon-results): a finished case is read back, a stopped one is resumed, so the table can
be filled over several sessions. First the model's skill probes for the manager and the news analyst
(`retinue probe`; "no skill shown" where the accuracy's interval includes chance). Prints CR %, SR and
MDD % for FinCon beside buy-and-hold from the same run, how many ticker-days the manager held long, no
position and short (a manager that copies one option holds one side every day), with model cost per
trading day, and writes metrics.json.

    python bench/fincon_results.py [--cases NFLX,NIO,...,P1,P2] [--runs DIR] [--out DIR]
                                   [--start 2022-10-05] [--end 2023-06-10] [--episodes 0] [--no-run]
"""

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from _report import NO_RUN_HELP, OUT_HELP, probe_summary, run_or_stop, save_metrics, skip_unfinished
from baseline_results import PORTFOLIOS, TICKERS

from retinue.paths import retinue_home

# Cheapest first: tickers without market text need one model call a day.
DEFAULT_CASES = ["NFLX", "NIO", "COIN", "TSLA", "AMZN", "GOOG", "MSFT", "AAPL", "P1", "P2"]


def run_case(case: str, runs: Path, args: argparse.Namespace) -> dict[str, float] | None:
    folder = runs / case
    metrics = folder / "metrics.json"
    if not metrics.exists():
        if args.no_run:
            skip_unfinished(case)
            return None
        tickers = ",".join(PORTFOLIOS.get(case, [case]))
        command = [sys.executable, "-m", "retinue.cli", "backtest"]
        if (folder / "run.json").exists():
            command += ["--resume", str(folder)]
        else:
            command += ["--method", "fincon", "--tickers", tickers, "--start", args.start, "--end", args.end]
            command += ["--out", str(folder)]
            if args.episodes:
                command += ["--train-start", args.train_start, "--train-end", args.train_end]
                command += ["--episodes", str(args.episodes)]
        print(f"running {case}: {' '.join(command[3:])}", flush=True)
        run_or_stop(command, case)
    return json.loads(metrics.read_text())  # type: ignore[no-any-return]


def sides(folder: Path) -> dict[str, int]:
    """Ticker-days held long, with no position and short, from the run's trades.csv."""
    with (folder / "trades.csv").open(newline="", encoding="utf-8") as handle:
        weights = [float(row["position"]) for row in csv.DictReader(handle)]
    return {
        "long_days": sum(w > 0 for w in weights),
        "flat_days": sum(w == 0 for w in weights),
        "short_days": sum(w < 0 for w in weights),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="Tickers and/or P1, P2.")
    parser.add_argument("--runs", type=Path, default=None, help="Case runs (default: $RETINUE_HOME/fincon-results).")
    parser.add_argument("--start", default="2022-10-05", help="First test day.")
    parser.add_argument("--end", default="2023-06-10", help="Last test day.")
    parser.add_argument("--episodes", type=int, default=0, help="Training episodes before the test (0: none).")
    parser.add_argument("--train-start", default="2022-01-03", help="First training day (with --episodes).")
    parser.add_argument("--train-end", default="2022-10-04", help="Last training day (with --episodes).")
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    parser.add_argument("--no-run", action="store_true", help=NO_RUN_HELP)
    args = parser.parse_args()
    runs = args.runs or retinue_home() / "fincon-results"
    cases = [c.strip().upper() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in TICKERS and c not in PORTFOLIOS]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(TICKERS + list(PORTFOLIOS))}")
    report: dict[str, Any] = dict(probe_summary(["manager", "analyst"], runs, [], args.no_run))
    print(f"model: {report.get('model', 'not probed')}")
    rows = []
    for case in cases:
        m = run_case(case, runs, args)
        if m is None:
            continue
        days = m["trading_days"] - 1
        m |= sides(runs / case)
        rows.append(
            f"| {case} | {m['cumulative_log_return_pct']:.2f} / {m['sharpe_ratio']:.3f} / {m['max_drawdown_pct']:.2f} "
            f"| {m['buy_and_hold_cumulative_log_return_pct']:.2f} / {m['buy_and_hold_sharpe_ratio']:.3f} / "
            f"{m['buy_and_hold_max_drawdown_pct']:.2f} | {m['long_days']} / {m['flat_days']} / {m['short_days']} | "
            f"{m['llm_calls'] / days:.2f} | "
            f"{m['wall_seconds'] / days:.1f} |"
        )
        report |= {f"{case}_{key}": value for key, value in m.items() if isinstance(value, int | float)}
    print(
        "| case | FinCon CR % / SR / MDD % | buy-and-hold CR % / SR / MDD % | long / none / short | calls/day | s/day |"
    )
    print("|---|---|---|---|---:|---:|")
    print("\n".join(rows))
    save_metrics(report, args.out)


if __name__ == "__main__":
    main()
