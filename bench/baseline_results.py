"""Baseline results on the FinCon paper's test window: CR %, Sharpe ratio, MDD % per ticker and portfolio.

Runs buy-and-hold, momentum and MACD on the 8 single-stock tickers, and buy-and-hold, equal weight and
Markowitz on the portfolios P1 = TSLA, MSFT, PFE and P2 = AMZN, GM, LLY, over 2022-10-05..2023-06-10
with no costs, through `MarketEnv`'s reset/step loop. Prints a Markdown table (for the README) and writes metrics.json.

    python bench/baseline_results.py [--data-dir DIR] [--out DIR]
"""

import argparse
from datetime import date
from pathlib import Path

from _report import save_metrics

from retinue.datasets.prices import load_prices
from retinue.envs.market import MarketEnv
from retinue.envs.market_baselines import BASELINES, Strategy
from retinue.evaluation.backtest import backtest_metrics
from retinue.paths import data_root

START, END = date(2022, 10, 5), date(2023, 6, 10)
TICKERS = ["TSLA", "AMZN", "NIO", "MSFT", "AAPL", "GOOG", "NFLX", "COIN"]
PORTFOLIOS = {"P1": ["TSLA", "MSFT", "PFE"], "P2": ["AMZN", "GM", "LLY"]}


def run(env: MarketEnv, strategy: Strategy) -> dict[str, float]:
    view, returns, done = env.reset(), [], False
    while not done:
        view, reward, done, _ = env.step(strategy(view))
        returns.append(reward)
    return backtest_metrics(returns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = data_root(args.data_dir)
    cases = [(t, [t], m) for t in TICKERS for m in ("buy_and_hold", "momentum", "macd")]
    portfolio_methods = ("buy_and_hold", "equal_weight", "markowitz")
    cases += [(name, members, m) for name, members in PORTFOLIOS.items() for m in portfolio_methods]
    report: dict[str, float] = {}
    print("| asset | method | CR % | SR | MDD % |\n|---|---|---:|---:|---:|")
    for label, members, method in cases:
        metrics = run(MarketEnv(load_prices(root, members), START, END), BASELINES[method])
        cr, sr, mdd = metrics["cumulative_log_return_pct"], metrics["sharpe_ratio"], metrics["max_drawdown_pct"]
        print(f"| {label} | {method} | {cr:.2f} | {sr:.3f} | {mdd:.2f} |")
        report |= {f"{label}_{method}_{key}": value for key, value in metrics.items()}
    save_metrics(report, args.out)


if __name__ == "__main__":
    main()
