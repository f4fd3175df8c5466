"""The fincon chat team backtests a baseline on the shared market data and answers with its equity curve,
which the terminal names and the page serves; the figures are those of `retinue backtest`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.scenarios.chat import load_fincon
from retinue.scenarios.chat_sessions import ChatSessions
from retinue.web.app import create_app
from tests.conftest import HashEmbeddings

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "market").is_dir(), reason="the shared market data is not there"),
]


def test_a_backtest_in_chat_answers_with_the_cli_figures_and_an_equity_curve(tmp_path: Path) -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[], callbacks=[usage])
    question = "backtest TSLA from 2023-01-03 to 2023-03-31 with momentum"
    with ChatSessions(
        tmp_path / "chat",
        model,
        usage,
        LLMConfig(),
        None,
        embed=HashEmbeddings(64),
        load_fincon=lambda: load_fincon(None),
    ) as sessions:
        events = list(sessions.turn("s", "fincon", question))
        ((kind, reply),) = events
        assert kind == "message" and reply["pictures"] == ["backtest-00001.png"]
        picture = sessions.picture("s", "backtest-00001.png")
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert sessions.history("s")[-1]["pictures"] == ["backtest-00001.png"]  # kept with the session
        with TestClient(create_app(sessions)) as client:
            served = client.get("/api/sessions/s/pictures/backtest-00001.png")
            assert served.status_code == 200 and served.content == picture.read_bytes()
            assert client.get("/api/sessions/s/pictures/..%2Fsessions.sqlite").status_code == 404
            assert client.get("/api/sessions/other/pictures/backtest-00001.png").status_code == 404
        bad = list(sessions.turn("s", "fincon", "backtest TSLA from 2023-01-03"))
        assert "I need a first and a last day" in bad[0][1]["text"]
    run = tmp_path / "run"
    command = [sys.executable, "-m", "retinue.cli", "backtest", "--method", "momentum", "--tickers", "TSLA"]
    done = subprocess.run(
        [*command, "--start", "2023-01-03", "--end", "2023-03-31", "--out", str(run)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"cumulative return {metrics['cumulative_log_return_pct']:.2f} %" in reply["text"]
    assert f"Sharpe ratio {metrics['sharpe_ratio']:.2f}" in reply["text"]
