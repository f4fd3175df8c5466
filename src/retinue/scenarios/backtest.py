"""A trading method backtested over a window of real prices, day by day: the config and the one place
that assembles the market, the method (a baseline, or FinCon after its training) and the day loop."""

import logging
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console

from retinue.datasets.prices import check_ticker
from retinue.errors import RetinueError
from retinue.jsonfiles import write_json_atomic
from retinue.runs.directory import RunDirectory
from retinue.runs.driver import ScenarioRun
from retinue.scenarios.base import ScenarioConfig

log = logging.getLogger(__name__)

Method = Literal["fincon", "buy_and_hold", "equal_weight", "momentum", "macd", "markowitz"]


class TrainingWindow(BaseModel):
    """FinCon's training before the test: episodes over a window that ends before the test starts."""

    model_config = ConfigDict(extra="forbid")

    start: date = Field(description="First day of the training window.")
    end: date = Field(description="Last day of the training window (before the test's start).")
    episodes: int = Field(1, ge=1, description="Training episodes; CVRF revises the beliefs after each from the 2nd.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature while training.")


class BacktestScenario(ScenarioConfig):
    """A method trading `tickers` from `start` to `end`: positions are weights in [-1, 1] per ticker, absolute
    weights summing to at most 1, held from one close to the next, with no look-ahead."""

    command = "backtest"

    method: Method = Field("buy_and_hold", description="fincon, or a baseline.")
    tickers: list[str] = Field(default_factory=lambda: ["TSLA"], min_length=1, description="Several: portfolio mode.")
    start: date = Field(date(2022, 10, 5), description="First trading day of the test.")
    end: date = Field(date(2023, 6, 10), description="Last trading day of the test.")
    cost_bps: float = Field(0.0, ge=0.0, description="Transaction cost per unit of turnover, in basis points.")
    train: TrainingWindow | None = Field(None, description="fincon: train before the test (None: no training).")
    prices: Literal["local", "yfinance", "auto"] = Field(
        "local", description="Price source: the data root, Yahoo Finance (online, cached), or local else online."
    )
    sentiment_model: Path | None = Field(None, description="fincon: a `retinue train sentiment` model for news.")
    data_dir: Path | None = Field(None, description="Data root holding market/ (default: see paths.data_root).")

    @property
    def uses_model(self) -> bool:
        return self.method == "fincon"

    @field_validator("tickers")
    @classmethod
    def _upper_and_once(cls, tickers: list[str]) -> list[str]:
        names = [t.strip().upper() for t in tickers if t.strip()]
        for name in names:
            try:
                check_ticker(name)
            except RetinueError as error:
                raise ValueError(str(error)) from None
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"{', '.join(repeated)} given more than once")
        return names

    @model_validator(mode="after")
    def _training_fits(self) -> "BacktestScenario":
        if self.train is not None and self.method != "fincon":
            raise ValueError(f"{self.method} does not train; only fincon does")
        if self.train is not None and self.train.end >= self.start:
            raise ValueError(f"train.end {self.train.end} must come before start {self.start}: no peeking at the test")
        if self.sentiment_model is not None and self.method != "fincon":
            raise ValueError(f"sentiment_model is for fincon's news analyst; {self.method} reads no news")
        return self


def prepare(config: BacktestScenario) -> BacktestScenario:
    """The config with its data root fixed; the windows and the sentiment model checked against the data
    before a run directory exists."""
    ready = config.model_copy(update={"data_dir": _data_root(config.data_dir, config.prices)})
    if config.sentiment_model is not None:
        from retinue.models.registry import model_folder

        how = "train one with `retinue train sentiment`"
        ready = ready.model_copy(update={"sentiment_model": model_folder(config.sentiment_model, "", how)})
    market(ready)
    if ready.sentiment_model is not None:
        from retinue.scenarios.fincon import sentiment_tool

        sentiment_tool(ready)  # a missing or altered model fails here, not on day one
    return ready


def _data_root(explicit: Path | None, prices: str) -> Path:
    """The data root; with online prices and none configured, a private empty one (so: no market text)."""
    from retinue.paths import data_root, retinue_home

    try:
        return data_root(explicit)
    except RetinueError:
        if prices == "local" or explicit is not None:
            raise
        log.warning("no data root: prices come from Yahoo Finance and the analysts have no market text")
        return retinue_home()


def market(config: BacktestScenario) -> Any:
    """The test window's market; with training, also checks the training window against the data."""
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv

    prices = load_prices(config.data_dir, config.tickers, source=config.prices)  # type: ignore[arg-type]
    if config.train is not None:
        MarketEnv(prices, config.train.start, config.train.end)
    return MarketEnv(prices, config.start, config.end, cost_bps=config.cost_bps)


def build(config: BacktestScenario, run: RunDirectory, console: Console | None = None) -> ScenarioRun:
    """The day loop over the test window with the method; FinCon trains first (its episodes are durable
    runs of their own, under RUN_DIR/episodes), and the test uses the beliefs training left."""
    from retinue.agents.backtest import Baseline, TradingContext
    from retinue.envs.market_baselines import BASELINES
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder

    env = market(config)
    usage = UsageRecorder()
    training = None
    if config.method == "fincon":
        from retinue.scenarios.fincon import fincon_method, train

        if config.train is not None:
            training = train(run, config, env.prices, console)
            write_json_atomic(run.path / "training.json", {"episodes": training.episodes, "beliefs": training.beliefs})
        decide: Any = fincon_method(env, config, config.llm, usage, training.beliefs if training else {})
    else:
        decide = Baseline(BASELINES[config.method], config.method)

    return ScenarioRun(
        graph=build_backtest_graph(),
        context=TradingContext(env=env, decide=decide, method=config.method),
        usage=usage,
        inputs={"index": 0, "last": env.trading_days - 1, "days": []},
        recursion_limit=2 * env.trading_days + 10,
        report=lambda final: _report(run, config, env, final["days"], usage, training),
    )


def _decided_by(config: BacktestScenario) -> str:
    """Who decided: the baseline's rule, or FinCon's model (its skill is `retinue probe --role manager`'s)."""
    if config.method != "fincon":
        return f"the {config.method} rule (no model)"
    name = config.llm.model or ("Gemma 3 270M base, embedded" if config.llm.provider == "embedded" else "default")
    return f"FinCon on {config.llm.provider} model {name}; its skill: retinue probe --role manager --out DIR"


def title(config: BacktestScenario) -> str:
    return f"{config.method} on {', '.join(config.tickers)}, {config.start} to {config.end}"


def _report(
    run: RunDirectory, config: BacktestScenario, env: Any, days: list[Any], usage: Any, training: Any
) -> dict[str, Any]:
    """Returns, risk and cost; trades.csv, equity.png and report.html beside them."""
    from retinue.evaluation.backtest_report import plot_equity, summarise, write_report, write_trades

    if len(days) != env.trading_days - 1:  # never report a partial run as a finished one
        raise RetinueError(
            f"the backtest holds {len(days)} of {env.trading_days - 1} trading days; continue it with "
            f"retinue backtest --resume {run.path}"
        )
    summary, benchmark = summarise(days, env)
    metrics: dict[str, Any] = dict(summary)
    total = usage.to_dict()["total"]
    metrics |= {
        "trading_days": env.trading_days,
        "days_held": len(days),
        "llm_calls": total["calls"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "wall_seconds": run.record().get("duration_seconds"),
    }
    if training is not None:
        metrics |= training.metrics()
    write_trades(run.path / "trades.csv", days, env)
    plot_equity(run.path / "equity.png", days, benchmark, title(config))
    write_report(run.path / "report.html", title(config), metrics, _decided_by(config), run.path / "trades.csv")
    return metrics
