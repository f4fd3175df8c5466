"""What a backtest leaves in its run directory: metrics.json, trades.csv, equity.png and report.html."""

import csv
import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from retinue.envs.market import (  # noqa: E402
    WEIGHT_TOLERANCE,
    DayRecord,  # noqa: E402
    MarketEnv,
)
from retinue.envs.market_baselines import buy_and_hold  # noqa: E402
from retinue.evaluation.backtest import backtest_metrics, drawdown_pct, equity_curve  # noqa: E402


def buy_and_hold_returns(env: MarketEnv, days: int) -> list[float]:
    """The buy-and-hold baseline's daily log returns before costs, in the environment's own accounting.

    For a portfolio that accounting (the paper's: sum_i w_i * log return_i) is not the log of the
    portfolio's value, so a comparison line computed from prices would not be the `buy_and_hold`
    method's figures: P2 would read 12.66 % instead of 10.50 %.
    """
    results = (env.realize(index, buy_and_hold(env.view(index)), {}) for index in range(days))
    return [result.log_return + result.cost for result in results]  # gross: the cost is added back


def write_trades(path: Path, days: list[DayRecord], env: MarketEnv) -> None:
    """One row per day and ticker; `action` is that day's trade: the change from the position held into the
    day as the day's prices moved it (the turnover costs are charged on), so a drifting position is HOLD."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "ticker", "action", "position", "price", "reasons"])
        previous: dict[str, float] = {}
        for index, day in enumerate(days):
            held = env.drifted(index, previous)
            for ticker, weight in sorted(day["weights"].items()):
                change = weight - held.get(ticker, 0.0)
                action = "BUY" if change > WEIGHT_TOLERANCE else "SELL" if change < -WEIGHT_TOLERANCE else "HOLD"
                writer.writerow([day["date"], ticker, action, round(weight, 6), day["prices"][ticker], day["reasons"]])
            previous = day["weights"]


def plot_equity(path: Path, days: list[DayRecord], benchmark: list[float], title: str) -> None:
    dates = [days[0]["date"], *[d["next_date"] for d in days]]
    returns = [d["log_return"] for d in days]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[3, 1])
    top.plot(dates, equity_curve(returns), label="strategy")
    top.plot(dates, equity_curve(benchmark), label="buy and hold", linestyle="--")
    top.set_ylabel("equity (start = 1)")
    top.set_title(title)
    top.legend()
    bottom.fill_between(dates, -drawdown_pct(returns), color="tab:red", alpha=0.4)
    bottom.set_ylabel("drawdown %")
    step = max(1, len(dates) // 8)
    bottom.set_xticks(dates[::step])
    bottom.tick_params(axis="x", rotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


SHORT_FOR_SHARPE = 60  # held days under which an annualised Sharpe ratio is a rough figure
TRADES_SHOWN = 200


def write_report(path: Path, title: str, metrics: dict[str, Any], model: str, trades: Path) -> None:
    """One page that reads on its own: the strategy beside buy-and-hold, the equity and drawdown picture,
    the model that decided, and the trades (the first 200; all of them in trades.csv)."""
    e = html.escape
    paired = [k for k in metrics if f"buy_and_hold_{k}" in metrics]
    compared = "".join(
        f"<tr><th>{e(k)}</th><td>{e(str(metrics[k]))}</td><td>{e(str(metrics[f'buy_and_hold_{k}']))}</td></tr>"
        for k in paired
    )
    rest = "".join(
        f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>"
        for k, v in metrics.items()
        if k not in paired and not k.startswith("buy_and_hold_")
    )
    held = int(metrics.get("days_held", 0))
    note = (
        f"<p><b>Note:</b> the Sharpe ratio is annualised from {held} held days; under about "
        f"{SHORT_FOR_SHARPE} it is a rough figure.</p>"
        if held < SHORT_FOR_SHARPE
        else ""
    )
    with trades.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1 : TRADES_SHOWN + 1]
    trade_rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
    more = f"<p>{len(rows) - 1 - len(body)} more in trades.csv.</p>" if len(rows) - 1 > len(body) else ""
    path.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}td,th{padding:2px 12px;text-align:left}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style>"
        f"<h1>{e(title)}</h1><p>Decided by: {e(model)}.</p>"
        f"<h2>Against buy-and-hold</h2><table><tr><th></th><th>strategy</th><th>buy-and-hold</th></tr>"
        f"{compared}</table>{note}"
        "<p><img src='equity.png' alt='equity curve and drawdown' style='max-width:100%'></p>"
        f"<h2>Run</h2><table>{rest}</table>"
        f"<h2>Trades</h2><table><tr>{''.join(f'<th>{e(c)}</th>' for c in header)}</tr>{trade_rows}</table>{more}",
        encoding="utf-8",
    )


def summarise(days: list[DayRecord], env: MarketEnv) -> tuple[dict[str, float], list[float]]:
    """Strategy metrics plus the buy-and-hold comparison over the same days."""
    metrics = backtest_metrics([d["log_return"] for d in days])
    benchmark = buy_and_hold_returns(env, len(days))
    reference = backtest_metrics(benchmark)
    metrics |= {f"buy_and_hold_{key}": value for key, value in reference.items() if key != "annualised_volatility_pct"}
    metrics["transaction_cost_pct"] = round(100 * sum(d["cost"] for d in days), 4)
    return metrics, benchmark
