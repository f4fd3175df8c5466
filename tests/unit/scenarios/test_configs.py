"""Scenario configs: validated fields, the rules that keep a test window held out, and the run record
they round-trip through."""

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory
from retinue.scenarios import AskScenario, BacktestScenario, EffiQAScenario, TrainingWindow, load_scenario, run


def test_a_backtest_config_parses_dates_and_normalises_tickers() -> None:
    config = BacktestScenario(tickers=["tsla", " aapl "], start="2022-10-05", end="2022-12-30")  # type: ignore[arg-type]
    assert config.tickers == ["TSLA", "AAPL"] and config.start == date(2022, 10, 5)
    assert config.saved()["start"] == "2022-10-05" and config.saved()["llm"]["provider"] == "embedded"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"tickers": ["TSLA", "tsla"]}, "TSLA given more than once"),
        ({"tickers": []}, "at least 1 item"),
        ({"method": "hodl"}, "method"),
        ({"method": "macd", "train": {"start": "2022-01-03", "end": "2022-06-30"}}, "macd does not train"),
        ({"method": "fincon", "train": {"start": "2022-01-03", "end": "2022-10-05"}}, "must come before start"),
        ({"method": "fincon", "train": {"start": "2022-01-03", "end": "2022-06-30", "episodes": 0}}, "episodes"),
        ({"method": "momentum", "sentiment_model": "model"}, "reads no news"),
        ({"prices": "bloomberg"}, "prices"),
        ({"cost_bps": -1}, "cost_bps"),
    ],
)
def test_a_bad_backtest_config_names_its_problem(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        BacktestScenario(start=date(2022, 10, 5), **fields)  # type: ignore[arg-type]


def test_a_training_window_that_ends_before_the_test_is_accepted() -> None:
    window = TrainingWindow(start=date(2022, 1, 3), end=date(2022, 10, 4), episodes=2)
    config = BacktestScenario(method="fincon", start=date(2022, 10, 5), train=window)
    assert config.saved()["train"] == {"start": "2022-01-03", "end": "2022-10-04", "episodes": 2, "temperature": 0.7}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"method": "cot"}, "method"), ({"hops": 4}, "hops"), ({"limit": 0}, "limit"), ({"variant": "x"}, "variant")],
)
def test_a_bad_effiqa_config_names_its_problem(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        EffiQAScenario(**fields)  # type: ignore[arg-type]


def test_a_config_round_trips_through_its_run_directory(tmp_path: Path) -> None:
    config = BacktestScenario(method="momentum", tickers=["NFLX"], start=date(2022, 10, 5), cost_bps=5)
    RunDirectory.create(config.command, config.saved(), tmp_path / "run", tmp_path)
    folder, loaded = load_scenario(tmp_path / "run")
    assert folder.path == tmp_path / "run" and loaded == config


def test_a_run_that_is_not_a_scenario_is_named(tmp_path: Path) -> None:
    RunDirectory.create("train explorer", {"epochs": 1}, tmp_path / "run", tmp_path)
    with pytest.raises(RetinueError, match="'train explorer' run, which is not a scenario run"):
        load_scenario(tmp_path / "run")


def test_run_needs_a_config_or_a_run_to_resume_but_not_both(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="needs a scenario config"):
        run()
    with pytest.raises(RetinueError, match="not both"):
        run(BacktestScenario(), resume=tmp_path)


def test_an_ask_config_keeps_its_schema_under_the_name_schema(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"action": {"enum": ["BUY", "SELL"]}}}
    config = AskScenario(prompts=["Trade?"], schema_=schema)
    assert config.saved()["schema"] == schema and "schema_" not in config.saved()
    RunDirectory.create(config.command, config.saved(), tmp_path / "run", tmp_path)
    assert load_scenario(tmp_path / "run")[1] == config
    with pytest.raises(ValidationError, match="prompts"):
        AskScenario(prompts=[])


@pytest.mark.parametrize("ticker", ["../../../etc/passwd", "TSLA/../MSFT", ".HIDDEN", "A B", "x" * 20])
def test_a_ticker_that_is_not_a_symbol_never_reaches_a_path(ticker: str, tmp_path: Path) -> None:
    from retinue.datasets.prices import load_prices

    with pytest.raises(ValidationError, match="is not a ticker symbol"):
        BacktestScenario(tickers=[ticker])
    with pytest.raises(RetinueError, match="is not a ticker symbol"):
        load_prices(tmp_path, [ticker.upper()])


def test_ticker_symbols_as_exchanges_write_them_are_accepted() -> None:
    assert BacktestScenario(tickers=["brk-b", "^GSPC", "BTC-USD", "7203.T"]).tickers == [
        "BRK-B",
        "^GSPC",
        "BTC-USD",
        "7203.T",
    ]
