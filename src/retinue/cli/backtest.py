"""`retinue backtest`: a trading method over a window of real prices, day by day, as a durable run."""

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from retinue.cli.common import (
    BaseUrlOption,
    ConfigOption,
    LLMOption,
    ModelOption,
    NoCacheOption,
    ScriptOption,
    err,
    llm_overrides,
    out,
    run_chat_model,
)
from retinue.config import LLMConfig, load_settings, validate_config
from retinue.errors import RetinueError


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RetinueError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def backtest(
    method: Annotated[
        str, typer.Option(help="fincon | buy_and_hold | equal_weight | momentum | macd | markowitz.")
    ] = "buy_and_hold",
    tickers: Annotated[str, typer.Option(help="Comma-separated tickers; several mean portfolio mode.")] = "TSLA",
    start: Annotated[str, typer.Option(help="First trading day (YYYY-MM-DD).")] = "2022-10-05",
    end: Annotated[str, typer.Option(help="Last trading day (YYYY-MM-DD).")] = "2023-06-10",
    cost_bps: Annotated[float, typer.Option(help="Transaction cost per unit of turnover, in basis points.")] = 0.0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding market/ (default: see README).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue a stopped backtest from its last trading day.")] = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Backtest a trading method on daily prices, with no look-ahead. Writes metrics.json, trades.csv,
    equity.png and report.html to the run directory.

    Positions are weights in [-1, 1] per ticker (long, flat, short), absolute weights summing to at most 1,
    held from one close to the next; cumulative return is the sum of daily log returns."""
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.open(resume, command="backtest")
        saved = run.config()
        env = _market_env(saved)
    else:
        from retinue.envs.market_baselines import BASELINES
        from retinue.paths import data_root, runs_root

        if method not in (*BASELINES, "fincon"):
            raise RetinueError(f"--method: unknown method {method!r}; choose fincon or one of {', '.join(BASELINES)}")
        names = [t.strip().upper() for t in tickers.split(",") if t.strip()]
        if not names:
            raise RetinueError("--tickers: give at least one ticker")
        saved = {
            "method": method,
            "tickers": names,
            "start": _parse_day(start, "--start").isoformat(),
            "end": _parse_day(end, "--end").isoformat(),
            "cost_bps": cost_bps,
            "data_dir": str(data_root(data_dir)),
            "llm": load_settings(config, llm_overrides(llm, model, base_url, script, no_cache)).llm.model_dump(
                mode="json"
            ),
        }
        env = _market_env(saved)  # checks the window and data before a run directory is created
        run = RunDirectory.create("backtest", saved, out_dir, runs_root())
    _run_backtest(run, saved, env, resume=resume is not None)


def _market_env(saved: dict[str, Any]) -> Any:
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv

    prices = load_prices(Path(saved["data_dir"]), list(saved["tickers"]))
    return MarketEnv(
        prices, date.fromisoformat(saved["start"]), date.fromisoformat(saved["end"]), cost_bps=saved["cost_bps"]
    )


def _fincon_method(env: Any, saved: dict[str, Any], usage: Any) -> Any:
    from retinue.agents.fincon import FinconContext, FinconMethod
    from retinue.datasets.market_text import TextArchive
    from retinue.graphs.fincon import build_fincon_day_graph

    llm_config = validate_config(LLMConfig, saved["llm"], source="[llm]")
    context = FinconContext(
        llm=run_chat_model(llm_config, usage),
        usage=usage,
        llm_config=llm_config,
        env=env,
        archive=TextArchive.load(Path(saved["data_dir"]), list(saved["tickers"])),
    )
    return FinconMethod(build_fincon_day_graph().compile(), context)


def _run_backtest(run: Any, saved: dict[str, Any], env: Any, resume: bool) -> None:
    from retinue.agents.trading import Baseline, TradingContext
    from retinue.envs.market_baselines import BASELINES
    from retinue.evaluation.backtest_report import plot_equity, summarise, write_report, write_trades
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute

    usage = UsageRecorder()
    if saved["method"] == "fincon":
        decide: Any = _fincon_method(env, saved, usage)
    else:
        decide = Baseline(BASELINES[saved["method"]], saved["method"])
    context = TradingContext(env=env, decide=decide, method=saved["method"])
    try:
        final = execute(
            build_backtest_graph(),
            run=run,
            context=context,
            usage=usage,
            inputs={"index": 0, "last": env.trading_days - 1, "days": []},
            resume=resume,
            recursion_limit=2 * env.trading_days + 10,
            console=err,
        )
    except KeyboardInterrupt:
        err.print(f"\ninterrupted; continue with: retinue backtest --resume {run.path}")
        raise typer.Exit(130) from None
    days = final["days"]
    closes_next = {t: [env.view(i + 1).close(t) for i in range(len(days))] for t in env.tickers}
    metrics, benchmark = summarise(days, closes_next)
    total = usage.to_dict()["total"]
    metrics |= {
        "trading_days": env.trading_days,
        "llm_calls": total["calls"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "wall_seconds": run.record().get("duration_seconds"),
    }
    run.write_metrics(metrics)
    title = f"{saved['method']} on {', '.join(saved['tickers'])}, {saved['start']} to {saved['end']}"
    write_trades(run.path / "trades.csv", days)
    plot_equity(run.path / "equity.png", days, benchmark, title)
    write_report(run.path / "report.html", title, metrics)
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    out.print(table)
    err.print(f"report: {run.path / 'report.html'}")
