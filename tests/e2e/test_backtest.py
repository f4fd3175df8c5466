"""Backtests on the real market data through the CLI and the durable engine."""

import csv
import json
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from retinue.agents.backtest import Baseline, TradingContext
from retinue.agents.fincon import FinconContext, FinconMethod
from retinue.agents.fincon.state import ASPECTS
from retinue.config import LLMConfig
from retinue.datasets.market_text import TextArchive
from retinue.datasets.prices import load_prices
from retinue.envs.market import MarketEnv
from retinue.envs.market_baselines import macd
from retinue.graphs.backtest import build_backtest_graph
from retinue.graphs.fincon import build_fincon_day_graph
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.paths import data_root
from retinue.runs.directory import RunDirectory
from retinue.runs.execute import execute, open_run_store
from retinue.scenarios.chat import backtest_memory, load_fincon
from retinue.scenarios.chat_sessions import ChatSessions

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (Path(__file__).resolve().parents[3] / "shared" / "data" / "market").is_dir(),
        reason="the shared market data is not beside the repository",
    ),
]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", "backtest", *args], capture_output=True, text=True, timeout=600, env=env
    )


def _backtest_cli(method: str, tickers: str, start: str, end: str, out: Path, env: dict | None = None) -> None:
    args = ["backtest", "--method", method, "--tickers", tickers, "--start", start, "--end", end, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr


def test_backtest_command_writes_metrics_trades_plot_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _backtest_cli("buy_and_hold", "NFLX", "2022-10-05", "2023-06-10", out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert round(metrics["cumulative_log_return_pct"], 2) == 57.34
    assert metrics["trading_days"] == 171 and metrics["llm_calls"] == 0
    assert {"sharpe_ratio", "max_drawdown_pct", "prompt_tokens", "completion_tokens", "wall_seconds"} <= set(metrics)
    trades = (out / "trades.csv").read_text().splitlines()
    assert trades[0] == "date,ticker,action,position,price,reasons" and len(trades) == 171
    assert (out / "equity.png").stat().st_size > 10_000
    assert "cumulative_log_return_pct" in (out / "report.html").read_text()


def _context(strategy) -> TradingContext:  # type: ignore[no-untyped-def]
    prices = load_prices(data_root(), ["TSLA", "MSFT"])
    env = MarketEnv(prices, date(2022, 10, 5), date(2023, 1, 31), cost_bps=5)
    return TradingContext(env=env, decide=Baseline(strategy, "macd"), method="macd")


def _backtest(run: RunDirectory, context: TradingContext, resume: bool = False) -> list[dict]:
    final = execute(
        build_backtest_graph(),
        run=run,
        context=context,
        usage=UsageRecorder(),
        inputs={"index": 0, "last": context.env.trading_days - 1, "days": []},
        resume=resume,
    )
    return final["days"]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_killed_backtest_resumes_to_exactly_the_uninterrupted_result(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    config = {"db": request.getfixturevalue("postgres_url")} if database == "postgres" else {}
    whole = _backtest(RunDirectory.create("backtest", config, tmp_path / "whole", tmp_path), _context(macd))

    def dies_on_day_40(view):  # type: ignore[no-untyped-def]
        if view.index == 40:
            raise KeyboardInterrupt
        return macd(view)

    run = RunDirectory.create("backtest", config, tmp_path / "stopped", tmp_path)
    assert run.database == config.get("db")
    with pytest.raises(KeyboardInterrupt):
        _backtest(run, _context(dies_on_day_40))
    assert run.record()["status"] == "interrupted"
    resumed = _backtest(run, _context(macd), resume=True)
    assert resumed == whole
    assert (run.checkpoints_path.exists()) is (database == "sqlite")


def _fincon_context(die_on: int | None = None) -> TradingContext:
    prices = load_prices(data_root(), ["AAPL"])
    env = MarketEnv(prices, date(2022, 10, 5), date(2022, 10, 13))
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[ANY_REPLY] * 100, callbacks=[usage])
    context = FinconContext(
        llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive.load(data_root(), ["AAPL"])
    )
    method = FinconMethod(build_fincon_day_graph().compile(), context)

    def decide(view, past_returns, previous, store):  # type: ignore[no-untyped-def]
        decision = method(view, past_returns, previous, store)
        if view.index == die_on:  # after the day's memory writes, before its checkpoint
            raise KeyboardInterrupt
        return decision

    return TradingContext(env=env, decide=decide, method="fincon")


def _memories(run: RunDirectory) -> dict[tuple, dict]:
    with open_run_store(run) as store:
        return {(i.namespace, i.key): i.value for i in store.search(("fincon",), limit=10_000)}


def test_a_killed_fincon_backtest_resumes_to_the_same_days_and_the_same_memory(tmp_path: Path) -> None:
    whole_run = RunDirectory.create("backtest", {}, tmp_path / "whole", tmp_path)
    whole = _backtest(whole_run, _fincon_context())
    run = RunDirectory.create("backtest", {}, tmp_path / "stopped", tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _backtest(run, _fincon_context(die_on=3))
    resumed = _backtest(run, _fincon_context(), resume=True)
    assert resumed == whole
    memories = _memories(run)
    assert any(ns[1] == "news_analyst" for ns, _ in memories) and any(ns[1] == "manager" for ns, _ in memories)
    assert memories == _memories(whole_run)  # the replayed day added, aged and rewarded nothing twice


def test_fincon_trains_and_runs_on_the_embedded_model(tmp_path: Path, model_home: Path) -> None:
    out = tmp_path / "run"
    env = {"RETINUE_HOME": str(model_home), "PATH": "/usr/bin:/bin", "RETINUE_DATA_DIR": str(data_root())}
    window = ["--tickers", "AAPL", "--start", "2022-10-05", "--end", "2022-10-07"]
    training = ["--train-start", "2022-09-29", "--train-end", "2022-09-30", "--episodes", "2"]
    done = _cli("--method", "fincon", *window, *training, "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["trading_days"] == 3 and metrics["llm_calls"] >= 2  # manager twice, analysts too
    assert json.loads((out / "config.json").read_text())["llm"]["model"] == "agent-gemma"  # the default
    assert metrics["prompt_tokens"] > 0 and metrics["completion_tokens"] > 0
    with (out / "trades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(row["ticker"] == "AAPL" and row["action"] in ("BUY", "SELL", "HOLD") for row in rows)
    usage = json.loads((out / "usage.json").read_text())["by_role"]
    assert usage["manager"]["calls"] + usage["manager"]["cache_hits"] >= 2
    # AAPL has news, filings and calls before the window: every text analyst read its memory.
    assert {"news_analyst", "filings_analyst", "earnings_call_analyst"} <= set(usage)
    # Training: two one-day episodes, then a CVRF step whose grammar-constrained insights became beliefs.
    trained = json.loads((out / "training.json").read_text())
    assert [e["episode"] for e in trained["episodes"]] == [1, 2]
    assert 0.0 <= trained["episodes"][1]["tau"] <= 1.0
    assert set(trained["beliefs"]) == set(ASPECTS) and all(len(b) >= 12 for b in trained["beliefs"].values())
    assert metrics["training_episodes"] == 2 and metrics["training_llm_calls"] >= 3


# Valid as every FinCon reply (pydantic ignores the fields a schema does not have), and as every choice:
# the manager picks BUY, an analyst positive.
ANY_REPLY = {
    "logprobs": {"BUY": -0.2, "positive": -0.2},
    "key_point": "demand is strong",
    "reasons": "momentum",
    "data": "momentum persists for a few days",
    "news": "headlines fade within days",
    "filings": "margins lead the price",
    "earnings_call": "guidance moves the stock",
    "manager": "hold a winning position",
    "belief": "revised belief, kept short",
}
TRAINING = ["--train-start", "2022-09-26", "--train-end", "2022-09-30", "--episodes", "2"]


def test_fincon_trains_episodes_with_cvrf_and_tests_with_the_beliefs(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [ANY_REPLY] * 200}))
    out = tmp_path / "run"
    scripted = ["--llm", "scripted", "--script", str(script), "--no-cache"]
    test_window = ["--tickers", "AAPL", "--start", "2022-10-05", "--end", "2022-10-07"]
    done = _cli("--method", "fincon", *test_window, *TRAINING, *scripted, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "training episode 2/2" in done.stderr
    training = json.loads((out / "training.json").read_text())
    first, second = training["episodes"]
    assert first["episode"] == 1 and "tau" not in first  # nothing to compare the first episode with
    assert second["tau"] == 1.0 and second["better_episode"] in (1, 2)  # a script repeats itself exactly
    assert training["beliefs"]["manager"] == "hold a winning position"  # the first insights become beliefs
    assert training["beliefs"]["news"] == "headlines fade within days"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training_episodes"] == 2 and metrics["training_llm_calls"] > metrics["llm_calls"] > 0
    for number in (1, 2):
        assert json.loads((out / "episodes" / str(number) / "run.json").read_text())["status"] == "completed"
    again = _cli("--resume", str(out), env=None)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "metrics.json").read_text())["training_llm_calls"] == metrics["training_llm_calls"]

    # The chat's fincon team starts from this run: its memory (here the manager's episodes) and beliefs.
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[ANY_REPLY] * 10, callbacks=[usage])
    start = backtest_memory(out)
    with ChatSessions(
        tmp_path / "chat", model, usage, LLMConfig(), None, load_fincon=lambda: load_fincon(None, start)
    ) as sessions:
        events = list(sessions.turn("s", "fincon", "what would you do with AAPL on 2022-10-12 and why"))
    assert events[0] == (
        "step",
        {"agent": "fincon", "text": "starting from the memory and beliefs of backtest run (to 2022-10-07)"},
    )
    assert events[-1][1]["text"].startswith("BUY AAPL at the close of 2022-10-12")
    picks = [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]
    manager_prompt = str(picks[-1].messages[-1].content)
    assert "2022-10-05: BUY AAPL" in manager_prompt and "hold a winning position" in manager_prompt


def test_kill_stops_a_backtest_as_ctrl_c_does(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [ANY_REPLY] * 100}))
    out = tmp_path / "run"
    window = ["--tickers", "AAPL", "--start", "2022-10-05", "--end", "2022-11-30"]
    command = [sys.executable, "-m", "retinue.cli", "backtest", "--method", "fincon", *window]
    command += ["--llm", "scripted", "--script", str(script), "--no-cache", "--out", str(out)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as backtest:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and backtest.poll() is None:
            record = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
            if record.get("progress", {}).get("days held", [0])[0] >= 2:
                break
            time.sleep(0.2)
        backtest.send_signal(signal.SIGTERM)
        _, stderr = backtest.communicate(timeout=120)
    assert backtest.returncode == 130, stderr
    assert f"continue with: retinue backtest --resume {out}" in stderr and "Traceback" not in stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "interrupted" and record["duration_seconds"] > 0
    assert 2 <= record["progress"]["days held"][0] < 39


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--method", "macd", *TRAINING], "macd does not train"),
        (["--method", "fincon", "--train-start", "2022-09-26", "--episodes", "2"], "give both"),
        (
            ["--method", "fincon", "--train-start", "2022-09-26", "--train-end", "2022-10-06", "--episodes", "2"],
            "must come before --start",
        ),
        (["--method", "fincon", "--train-start", "2019-01-02", "--train-end", "2019-02-01", "--episodes", "1"], "2019"),
        (["--method", "hodl"], "unknown method 'hodl'"),
        (["--tickers", "ZZZ"], "unknown ticker 'ZZZ'"),
        (["--tickers", "TSLA,nio,tsla", "--method", "equal_weight"], "--tickers: TSLA given more than once"),
        (["--start", "2022-13-01"], "--start"),
        (["--method", "fincon", "--llm", "scripted"], "needs llm.script"),
        (["--method", "fincon", "--model", "missing.gguf"], "GGUF model file not found: missing.gguf"),
    ],
)
def test_bad_backtest_input_exits_1_naming_the_problem(tmp_path: Path, args: list[str], expected: str) -> None:
    done = _cli("--start", "2022-10-05", "--end", "2022-10-07", *args, "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()  # nothing half-made


def test_a_fincon_backtest_stopped_inside_a_day_redoes_that_day_on_resume(tmp_path: Path) -> None:
    """The stop comes from inside the day graph (the manager's model call) on a ticker without text, where
    the manager is the only caller; a day graph that inherited the backtest's checkpointer resumed its
    stale run instead of redoing the day."""
    prices = load_prices(data_root(), ["NFLX"])
    env = MarketEnv(prices, date(2022, 10, 5), date(2022, 10, 13))
    reply = {"reasons": "r", "pick": "BUY"}  # the manager's reasoning and its pick alike

    def context(responses: list[object]) -> TradingContext:
        usage = UsageRecorder()
        model = ScriptedChatModel(responses=responses, callbacks=[usage])
        fincon = FinconContext(llm=model, usage=usage, llm_config=LLMConfig(), env=env, archive=TextArchive([]))
        method = FinconMethod(build_fincon_day_graph().compile(), fincon)
        return TradingContext(env=env, decide=method, method="fincon")

    whole = _backtest(RunDirectory.create("backtest", {}, tmp_path / "whole", tmp_path), context([reply] * 20))
    run = RunDirectory.create("backtest", {}, tmp_path / "stopped", tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _backtest(run, context([reply] * 3 + [KeyboardInterrupt()]))
    resumed = _backtest(run, context([reply] * 20), resume=True)
    assert len(resumed) == env.trading_days - 1 and resumed == whole
