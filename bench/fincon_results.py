"""FinCon's results table: FinCon on the embedded model over the paper's test window, per ticker and portfolio.

Each case is a `retinue backtest --method fincon` run directory under --runs (default
$RETINUE_HOME/fincon-results): a finished case is read back, a stopped one is resumed, so the table can
be filled over several sessions. Prints CR %, SR and MDD % for FinCon beside buy-and-hold from the same
run, with model cost per trading day, and writes metrics.json.

    python bench/fincon_results.py [--cases NFLX,NIO,...,P1,P2] [--runs DIR] [--out DIR]
                                   [--start 2022-10-05] [--end 2023-06-10] [--episodes 0] [--no-run]
"""

import argparse
import json
import sys
from pathlib import Path

from _report import NO_RUN_HELP, OUT_HELP, run_or_stop, save_metrics, skip_unfinished
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
    report: dict[str, float] = {}
    rows = []
    for case in cases:
        m = run_case(case, runs, args)
        if m is None:
            continue
        days = m["trading_days"] - 1
        rows.append(
            f"| {case} | {m['cumulative_return_pct']:.2f} / {m['sharpe_ratio']:.3f} / {m['max_drawdown_pct']:.2f} "
            f"| {m['buy_and_hold_cumulative_return_pct']:.2f} / {m['buy_and_hold_sharpe_ratio']:.3f} / "
            f"{m['buy_and_hold_max_drawdown_pct']:.2f} | {m['llm_calls'] / days:.2f} | "
            f"{m['wall_seconds'] / days:.1f} |"
        )
        report |= {f"{case}_{key}": value for key, value in m.items() if isinstance(value, int | float)}
    print("| case | FinCon CR % / SR / MDD % | buy-and-hold CR % / SR / MDD % | calls/day | s/day |")
    print("|---|---|---|---:|---:|")
    print("\n".join(rows))
    save_metrics(report, args.out)


if __name__ == "__main__":
    main()
