"""`retinue backtest`: a trading method over a window of real prices, day by day, as a durable run."""

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    DbOption,
    ModelOptions,
    RunDirOption,
    err,
    out,
    run_scenario,
    with_model_options,
)
from retinue.errors import RetinueError
from retinue.postgres import check_db_url


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RetinueError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@with_model_options
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
    db: DbOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Backtest a trading method on daily prices, with no look-ahead. Writes metrics.json, trades.csv,
    equity.png and report.html to the run directory.

    Positions are weights in [-1, 1] per ticker (long, flat, short), absolute weights summing to at most 1,
    held from one close to the next; cumulative return is the sum of daily log returns.

    FinCon can train first: --episodes K backtests over --train-start..--train-end, each under
    RUN_DIR/episodes/N (N = 1..K); from the second on, conceptual verbal reinforcement (CVRF) revises the team's
    investment beliefs, which the test run then uses (see training.json)."""
    from retinue.datasets.prices import check_ticker
    from retinue.envs.market_baselines import BASELINES
    from retinue.scenarios import BacktestScenario, TrainingWindow

    scenario = None
    if resume is None:
        if method not in (*BASELINES, "fincon"):
            raise RetinueError(f"--method: unknown method {method!r}; choose fincon or one of {', '.join(BASELINES)}")
        names = [t.strip().upper() for t in tickers.split(",") if t.strip()]
        if not names:
            raise RetinueError("--tickers: give at least one ticker")
        for name in names:
            try:
                check_ticker(name)
            except RetinueError as error:
                raise RetinueError(f"--tickers: {error}") from None
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise RetinueError(f"--tickers: {', '.join(repeated)} given more than once")
        if sentiment_model is not None and method != "fincon":
            raise RetinueError(f"--sentiment-model is for fincon's news analyst; {method} reads no news")
        test_start = _parse_day(start, "--start")
        training = _training_spec(method, train_start, train_end, episodes, train_temperature, test_start)
        scenario = BacktestScenario(
            method=method,  # type: ignore[arg-type]
            tickers=names,
            start=test_start,
            end=_parse_day(end, "--end"),
            cost_bps=cost_bps,
            train=TrainingWindow(**training) if training else None,
            prices=prices,  # type: ignore[arg-type]
            sentiment_model=sentiment_model,
            data_dir=data_dir,
            db=check_db_url(db),
            llm=models.settings(default_model=False),
        )
    result = run_scenario(scenario, out_dir=out_dir, resume=resume)
    from retinue.scenarios import load_scenario
    from retinue.scenarios.backtest import title

    _, ran = load_scenario(result.path)
    table = Table(title=title(ran), title_justify="left")  # type: ignore[arg-type]
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        table.add_row(key, str(value))
    out.print(table)
    err.print(f"report: {result.path / 'report.html'}")


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
    return {"start": first, "end": last, "episodes": episodes, "temperature": temperature}
