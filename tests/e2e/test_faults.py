"""The decision function against an endpoint that fails in every way: it retries, falls back, and the run
finishes and records what happened."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import openai
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from retinue.config import LLMConfig
from retinue.llms import UsageRecorder, decide, make_chat_model
from tests.e2e.fault_server import fault_server
from tests.real_parts import free_port

pytestmark = pytest.mark.e2e


class Trade(BaseModel):
    action: Literal["BUY", "SELL", "HOLD"]


def _model(url: str, usage: UsageRecorder, max_retries: int = 0):  # type: ignore[no-untyped-def]
    config = LLMConfig(provider="openai", base_url=url, model="fault", timeout_seconds=1.0, max_retries=max_retries)
    return make_chat_model(config, usage=usage)


def test_every_failure_is_retried_then_the_default_is_returned() -> None:
    usage = UsageRecorder()
    with fault_server(["500", "429", "malformed", "hang"], hang_seconds=3) as server:
        decision = decide(
            _model(server.url, usage),
            [HumanMessage("trade?")],
            Trade,
            default=Trade(action="HOLD"),
            role="manager",
            attempts=4,
            backoff_seconds=0.01,
            usage=usage,
        )
        assert server.requests == ["500", "429", "malformed", "hang"]
    assert not decision.valid and decision.value.action == "HOLD"
    assert decision.fallback_reason
    assert usage.by_role["manager"].errors == 4 and usage.by_role["manager"].fallbacks == 1


def test_client_retries_429_and_5xx_with_backoff_before_succeeding() -> None:
    usage = UsageRecorder()
    with fault_server(["429", "500", '{"action": "SELL"}']) as server:
        decision = decide(
            _model(server.url, usage, max_retries=2),
            [HumanMessage("trade?")],
            Trade,
            default=Trade(action="HOLD"),
            attempts=1,
            usage=usage,
        )
        assert server.requests == ["429", "500", '{"action": "SELL"}']
    assert decision.valid and decision.value.action == "SELL"
    assert usage.total().calls == 1 and usage.total().prompt_tokens == 5


def test_response_format_dialects_fall_back_in_order_and_are_remembered() -> None:
    usage = UsageRecorder()
    with fault_server(["422", '{"action": "BUY"}', "422", '{"action": "SELL"}']) as server:
        model = _model(server.url, usage)
        first = decide(model, [HumanMessage("a")], Trade, default=Trade(action="HOLD"), attempts=1)
        second = decide(model, [HumanMessage("b")], Trade, default=Trade(action="HOLD"), attempts=1)
        formats = [body.get("response_format", {}).get("type") for body in server.bodies]
    assert first.value.action == "BUY" and second.value.action == "SELL"
    # json_schema rejected once; json_object+schema rejected next; then the prompt alone carries the schema.
    assert formats == ["json_schema", "json_object", "json_object", None]
    assert model.structured_output_dialect == "prompt-only"


def test_a_wrong_key_or_model_is_not_a_fallback_but_an_error() -> None:
    usage = UsageRecorder()
    for behaviours, error in ((["401"], openai.AuthenticationError), (["404"] * 3, openai.NotFoundError)):
        with fault_server(behaviours) as server, pytest.raises(error):
            decide(_model(server.url, usage), [HumanMessage("a")], Trade, default=Trade(action="HOLD"), attempts=3)
        # 401 at once; 404 once per response_format dialect, then without one: no retries of the decision
        assert server.requests == behaviours
    assert usage.total().fallbacks == 0


def test_a_schema_run_against_a_wrong_model_stops_plainly(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(Trade.model_json_schema()))
    out = tmp_path / "run"
    with fault_server(["404"] * 3) as server:
        args = ["ask", "trade?", "--schema", str(schema), "--llm", "openai", "--base-url", server.url]
        done = _cli(*args, "--model", "no-such-model", "--out", str(out))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"error: the model endpoint at {server.url}/chat/completions failed: Error code: 404" in done.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "failed"


def test_an_ask_run_against_a_failing_server_finishes_and_records_the_fallback(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(Trade.model_json_schema()))
    config = tmp_path / "retinue.toml"
    config.write_text("[llm]\ntimeout_seconds = 1.0\nmax_retries = 0\nbackoff_seconds = 0.01\ndecision_attempts = 3\n")
    out = tmp_path / "run"
    with fault_server(["500", "hang", "malformed"], hang_seconds=3) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "retinue.cli",
                "ask",
                "trade?",
                "--schema",
                str(schema),
                "--llm",
                "openai",
                "--base-url",
                server.url,
                "--model",
                "fault",
                "--config",
                str(config),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is None
    assert "fell back" in done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fallbacks"] == 1 and metrics["valid_answers"] == 0
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "completed"
    usage = json.loads((out / "usage.json").read_text())
    assert usage["by_role"]["ask"]["errors"] == 3 and usage["by_role"]["ask"]["fallbacks"] == 1


def test_other_servers_get_max_tokens_by_its_common_name() -> None:
    with fault_server(['{"action": "BUY"}']) as server:
        config = LLMConfig(provider="openai", base_url=server.url, model="fault", max_tokens=17)
        make_chat_model(config).invoke("x")
    assert server.bodies[0]["max_tokens"] == 17 and "max_completion_tokens" not in server.bodies[0]


def test_a_run_whose_server_fails_stops_plainly_and_resumes_without_asking_again(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("second?\n")
    config = tmp_path / "retinue.toml"
    config.write_text("[llm]\nmax_retries = 0\n")
    out = tmp_path / "run"
    with fault_server(["First answer.", "500", "Second answer."]) as server:
        args = ["ask", "first?", "--file", str(prompts), "--llm", "openai", "--base-url", server.url]
        failed = _cli(*args, "--model", "fault", "--config", str(config), "--out", str(out))
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert f"error: the model endpoint at {server.url}/chat/completions failed: " in failed.stderr
        assert f"--resume {out}" in failed.stderr
        assert json.loads((out / "run.json").read_text())["status"] == "failed"
        resumed = _cli("ask", "--resume", str(out))
        assert resumed.returncode == 0, resumed.stderr
        assert server.requests == ["First answer.", "500", "Second answer."]  # the first prompt was not asked again
    assert "First answer." in resumed.stdout and "Second answer." in resumed.stdout
    assert json.loads((out / "run.json").read_text())["status"] == "completed"


def test_a_chat_turn_whose_server_is_down_says_so_and_the_terminal_goes_on(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = {**os.environ, "RETINUE_HOME": str(tmp_path)}
    done = _cli("chat", "--llm", "openai", "--base-url", url, "--model", "m", stdin="hello\n/quit\n", env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert f"error: the model endpoint at {url}/chat/completions failed: " in done.stderr
    assert "send the message again once the server answers" in done.stderr
    assert "session kept: retinue chat --session" in done.stderr


def _cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=120, input=stdin, env=env
    )


def test_a_choice_without_log_probabilities_falls_back_to_a_structured_reply_and_remembers() -> None:
    from retinue.llms.choice import ChoicePrompt, choose

    usage = UsageRecorder()
    prompt = ChoicePrompt([HumanMessage("Reports: bearish. Options: {options}")], ["BUY", "SELL", "HOLD"])
    # a reply without logprobs, then the structured reply; the next choice goes straight to a structured one
    with fault_server(["2", '{"choice": "SELL"}', '{"choice": "HOLD"}']) as server:
        model = _model(server.url, usage)
        first = choose(model, prompt, default="BUY", order=["BUY", "SELL", "HOLD"], attempts=1)
        second = choose(model, prompt, default="BUY", order=["HOLD", "BUY", "SELL"], attempts=1)
        bodies = server.bodies
    assert (first.value, first.method, second.value, second.method) == ("SELL", "structured", "HOLD", "structured")
    assert first.confidence == pytest.approx(1.0)
    assert bodies[0]["logprobs"] is True and "1. BUY\n2. SELL\n3. HOLD" in bodies[0]["messages"][-1]["content"]
    enum = bodies[1]["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"]
    assert enum == ["BUY", "SELL", "HOLD"] and bodies[2]["response_format"]["json_schema"]["schema"]["properties"][
        "choice"
    ]["enum"] == ["HOLD", "BUY", "SELL"]  # the order shown, not a fixed one
    assert "logprobs" not in bodies[1] and "logprobs" not in bodies[2]
