"""`retinue backtest`: a trading method over a window of real prices, day by day, as a durable run."""

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from retinue.cli.common import (
    BaseUrlOption,
    ConfigOption,
    DbOption,
    LLMOption,
    ModelOption,
    NoCacheOption,
    RunDirOption,
    ScriptOption,
    chat_model_settings,
    err,
    out,
)
from retinue.config import LLMConfig, validate_config
from retinue.errors import RetinueError
from retinue.jsonfiles import write_json_atomic
from retinue.postgres import check_db_url


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
    train_start: Annotated[
        str | None, typer.Option(help="fincon: first day of the training window (e.g. 2022-01-03).")
    ] = None,
    train_end: Annotated[str | None, typer.Option(help="fincon: last day of the training window.")] = None,
    episodes: Annotated[int, typer.Option(help="fincon: training episodes (CVRF after each from the 2nd).")] = 0,
    train_temperature: Annotated[
        float, typer.Option(help="fincon: sampling temperature while training, so episodes can differ.")
    ] = 0.7,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding market/ (default: see README).")] = None,
    sentiment_model: Annotated[
        Path | None, typer.Option(help="fincon: a model from `retinue train sentiment` for the news analyst.")
    ] = None,
    prices: Annotated[
        str,
        typer.Option(help="Price source: local (data root) | yfinance (online, cached) | auto (local, else online)."),
    ] = "local",
    out_dir: RunDirOption = None,
    resume: Annotated[Path | None, typer.Option(help="Continue a stopped backtest from its last trading day.")] = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    db: DbOption = None,
) -> None:
    """Backtest a trading method on daily prices, with no look-ahead. Writes metrics.json, trades.csv,
    equity.png and report.html to the run directory.

    Positions are weights in [-1, 1] per ticker (long, flat, short), absolute weights summing to at most 1,
    held from one close to the next; cumulative return is the sum of daily log returns.

    FinCon can train first: --episodes K backtests over --train-start..--train-end, each under
    RUN_DIR/episodes/N (N = 1..K); from the second on, conceptual verbal reinforcement (CVRF) revises the team's
    investment beliefs, which the test run then uses (see training.json)."""
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.resume(resume, "backtest")
        saved = run.config()
        env = _market_env(saved)
    else:
        from retinue.envs.market_baselines import BASELINES
        from retinue.paths import runs_root

        if method not in (*BASELINES, "fincon"):
            raise RetinueError(f"--method: unknown method {method!r}; choose fincon or one of {', '.join(BASELINES)}")
        names = [t.strip().upper() for t in tickers.split(",") if t.strip()]
        if not names:
            raise RetinueError("--tickers: give at least one ticker")
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise RetinueError(f"--tickers: {', '.join(repeated)} given more than once")
        test_start = _parse_day(start, "--start")
        saved = {
            "method": method,
            "tickers": names,
            "start": test_start.isoformat(),
            "end": _parse_day(end, "--end").isoformat(),
            "cost_bps": cost_bps,
            "train": _training_spec(method, train_start, train_end, episodes, train_temperature, test_start),
            "prices": prices,
            "sentiment_model": str(sentiment_model) if sentiment_model else None,
            "data_dir": str(_data_root(data_dir, prices)),
            "db": check_db_url(db),
            "llm": chat_model_settings(config, llm, model, base_url, script, no_cache).model_dump(mode="json"),
        }
        env = _market_env(saved)  # checks the window and data before a run directory is created
        if sentiment_model is not None:
            if method != "fincon":
                raise RetinueError(f"--sentiment-model is for fincon's news analyst; {method} reads no news")
            from retinue.cli.fincon_training import sentiment_tool

            sentiment_tool(saved)  # a missing or altered model fails here, not on day one
        run = RunDirectory.create("backtest", saved, out_dir, runs_root())
    _run_backtest(run, saved, env, resume=resume is not None)


def _training_spec(
    method: str, start: str | None, end: str | None, episodes: int, temperature: float, test_start: date
) -> dict[str, Any] | None:
    if start is None and end is None and episodes == 0:
        return None
    if method != "fincon":
        raise RetinueError(f"--train-start/--train-end/--episodes train FinCon; {method} does not train")
    if start is None or end is None:
        raise RetinueError("--train-start and --train-end: give both to train")
    if episodes < 1:
        raise RetinueError(f"--episodes: give at least 1 training episode (2 or more for CVRF), not {episodes}")
    if not 0 <= temperature <= 2:
        raise RetinueError(f"--train-temperature: {temperature} is outside 0..2")
    first, last = _parse_day(start, "--train-start"), _parse_day(end, "--train-end")
    if last >= test_start:
        raise RetinueError(f"--train-end {last} must come before --start {test_start}: training may not see the test")
    return {"start": first.isoformat(), "end": last.isoformat(), "episodes": episodes, "temperature": temperature}


def _data_root(explicit: Path | None, prices: str) -> Path:
    """The data root; with online prices and none configured, a private empty one (so: no market text)."""
    from retinue.paths import data_root, retinue_home

    try:
        return data_root(explicit)
    except RetinueError:
        if prices == "local" or explicit is not None:
            raise
        err.print("no data root: prices come from Yahoo Finance and the analysts have no market text")
        return retinue_home()


def _market_env(saved: dict[str, Any]) -> Any:
    """The test window's market; with training, also checks the training window against the data."""
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv

    prices = load_prices(Path(saved["data_dir"]), list(saved["tickers"]), source=saved.get("prices", "local"))
    if saved.get("train"):
        train = saved["train"]
        MarketEnv(prices, date.fromisoformat(train["start"]), date.fromisoformat(train["end"]))
    return MarketEnv(
        prices, date.fromisoformat(saved["start"]), date.fromisoformat(saved["end"]), cost_bps=saved["cost_bps"]
    )


def _run_backtest(run: Any, saved: dict[str, Any], env: Any, resume: bool) -> None:
    from retinue.agents.trading import Baseline, TradingContext
    from retinue.envs.market_baselines import BASELINES
    from retinue.evaluation.backtest_report import plot_equity, summarise, write_report, write_trades
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute

    usage = UsageRecorder()
    training = None
    if saved["method"] == "fincon":
        from retinue.cli.fincon_training import fincon_method, train

        if saved.get("train"):
            training = train(run, saved, env.prices)
            write_json_atomic(run.path / "training.json", {"episodes": training.episodes, "beliefs": training.beliefs})
        llm_config = validate_config(LLMConfig, saved["llm"], source="[llm]")
        decide: Any = fincon_method(env, saved, llm_config, usage, training.beliefs if training else {})
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
    if len(days) != env.trading_days - 1:  # never report a partial run as a finished one
        raise RetinueError(
            f"the backtest holds {len(days)} of {env.trading_days - 1} trading days; continue it with "
            f"retinue backtest --resume {run.path}"
        )
    metrics, benchmark = summarise(days, env)
    total = usage.to_dict()["total"]
    metrics |= {
        "trading_days": env.trading_days,
        "llm_calls": total["calls"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "wall_seconds": run.record().get("duration_seconds"),
    }
    if training is not None:
        metrics |= training.metrics()
    run.write_metrics(metrics)
    title = f"{saved['method']} on {', '.join(saved['tickers'])}, {saved['start']} to {saved['end']}"
    write_trades(run.path / "trades.csv", days, env)
    plot_equity(run.path / "equity.png", days, benchmark, title)
    write_report(run.path / "report.html", title, metrics)
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    out.print(table)
    err.print(f"report: {run.path / 'report.html'}")
