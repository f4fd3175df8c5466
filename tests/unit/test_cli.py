import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from retinue.cli import app
from retinue.errors import RetinueError

runner = CliRunner()
SCHEMA = {
    "title": "Trade",
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]}},
    "required": ["action"],
}


def _script(tmp_path: Path, responses: list[object]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"responses": responses}))
    return path


def _schema(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    return path


def test_ask_with_schema_prints_validated_json_and_writes_the_run(tmp_path: Path) -> None:
    script = _script(tmp_path, ['{"action": "SELL"}'])
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "ask",
            "trade?",
            "--schema",
            str(_schema(tmp_path)),
            "--llm",
            "scripted",
            "--script",
            str(script),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"action": "SELL"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["valid_answers"] == 1 and metrics["llm_calls"] == 1
    assert json.loads((out / "run.json").read_text())["status"] == "completed"

    # Not on a terminal, the list is tab-separated lines for grep and cut.
    header, row = runner.invoke(app, ["runs", "list", "--root", str(tmp_path)]).stdout.splitlines()
    assert header.split("\t") == ["run", "command", "status", "progress", "started", "time", "llm calls"]
    fields = row.split("\t")
    assert fields[:4] == [out.name, "ask", "completed", "ask 1/1"] and fields[6] == "1"  # last progress count
    shown = json.loads(runner.invoke(app, ["runs", "show", str(out)]).stdout)
    assert shown["metrics"]["valid_answers"] == 1 and shown["config"]["schema"] == SCHEMA


def test_a_rerun_replays_from_the_response_cache(tmp_path: Path) -> None:
    script = _script(tmp_path, ["the answer"])
    args = ["ask", "hello", "--llm", "scripted", "--script", str(script)]
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "r1")]).exit_code == 0
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "r2")])
    assert again.exit_code == 0 and "the answer" in again.stdout
    metrics = json.loads((tmp_path / "r2" / "metrics.json").read_text())
    assert metrics["cache_hits"] == 1 and metrics["llm_calls"] == 0
    nocache = runner.invoke(app, [*args, "--no-cache", "--out", str(tmp_path / "r3")])
    assert nocache.exit_code == 0 and "the answer" in nocache.stdout


def test_resume_continues_an_ask_run(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one\ntwo\n")
    script = _script(tmp_path, ["answer one", "answer two"])
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["ask", "--file", str(prompts), "--llm", "scripted", "--script", str(script), "--out", str(out), "--no-cache"],
    )
    assert result.exit_code == 0, result.output
    assert "# one" in result.stdout and "answer two" in result.stdout
    resumed = runner.invoke(app, ["ask", "--resume", str(out)])
    assert resumed.exit_code == 0 and "answer one" in resumed.stdout


def test_bad_input_exits_1_with_a_clear_message_and_no_traceback(tmp_path: Path) -> None:
    bad_schema = tmp_path / "bad.json"
    bad_schema.write_text('{"type": "no-such-type"}')
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text('[llm]\nprovider = "gpt"\n')
    cases = [
        (["ask", "x", "--schema", str(bad_schema)], "not a valid JSON schema"),
        (["ask", "x", "--schema", str(tmp_path / "missing.json")], "file not found"),
        (["ask", "x", "--config", str(bad_config)], "llm.provider"),
        (["ask", "x", "--llm", "scripted"], "llm.script"),
        (["ask", "x", "--llm", "scripted", "--script", str(bad_schema)], 'must hold {"responses": [...]}'),
        (["ask", "x", "--model", str(tmp_path / "missing.gguf")], "GGUF model file not found"),
        (["ask"], "give a PROMPT"),
        (["runs", "show", str(tmp_path)], "not a run directory"),
        (["plan-training", "--preset", "gpt3-1.3b", "--cluster", str(tmp_path)], "Is a directory"),
    ]
    for number, (args, expected) in enumerate(cases):
        out = tmp_path / f"run-{number}"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from retinue.cli import main; main()",
                *args,
                *(["--out", str(out)] * (args[0] == "ask")),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, (args, done.stderr)
        assert expected in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert not out.exists(), args  # refused before a run directory was made


def test_chat_names_a_fincon_run_it_cannot_start_from(tmp_path: Path) -> None:
    from retinue.runs.directory import RunDirectory

    baseline = RunDirectory.create("backtest", {"method": "buy_and_hold"}, tmp_path / "baseline", tmp_path)
    stopped = RunDirectory.create("backtest", {"method": "fincon", "end": "2023-01-31"}, tmp_path / "stopped", tmp_path)
    stopped.update_record(status="interrupted")
    cases = [
        (baseline.path, "is a buy_and_hold backtest, not a fincon one"),
        (stopped.path, "has not finished (status interrupted)"),
        (tmp_path / "nothing", "is not a run directory"),
    ]
    for folder, expected in cases:
        result = runner.invoke(app, ["chat", "--team", "fincon", "--fincon-run", str(folder)])
        assert isinstance(result.exception, RetinueError) and expected in str(result.exception)


def test_help_keeps_bracketed_text_and_joins_the_docstrings_lines() -> None:
    def help_of(*command: str) -> str:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert result.exit_code == 0, result.output
        return " ".join(result.stdout.split())  # the panels' line wrapping aside

    assert "A retinue TOML file ([llm] table)" in help_of("ask")  # not taken for rich markup
    assert "a [bracketed] name marks its topic entity" in help_of("ask-kg")
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}, terminal_width=200).stdout
    lines = [line for line in listing.splitlines() if "plan-training" in line or "on CLUSTER" in line]
    # a command's summary runs on as one paragraph, not broken where its docstring's lines break
    assert len(lines) == 1 and "for training PRESET on CLUSTER" in lines[0]


def test_runs_list_shows_a_run_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    from retinue.runs.directory import RunDirectory

    RunDirectory.create("ask", {}, tmp_path / "readable", tmp_path)
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "run.json").write_text("{torn")
    listed = runner.invoke(app, ["runs", "list", "--root", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.stdout.splitlines()[1:]]
    assert [row[:3] for row in rows] == [["readable", "ask", "running"], ["torn", "", "unreadable"]]  # unreadable: last
    assert "run.json is not valid JSON" in rows[1][3]


def test_a_sweep_refuses_options_its_command_does_not_have_before_any_cell_runs(tmp_path: Path) -> None:
    for text, message in (
        ('command = "backtest"\n[grid]\nmethd = ["macd"]\n', "'methd' is not an option of `retinue backtest` ("),
        ('command = "eval tips"\n[options]\nout = "x"\n[grid]\nmethod = ["none"]\n', "'out' is the sweep's to set"),
    ):
        path = tmp_path / "sweep.toml"
        path.write_text(text)
        result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "sweep")])
        assert isinstance(result.exception, RetinueError) and message in str(result.exception)
        assert not (tmp_path / "sweep").exists()


def test_the_command_line_starts_without_the_model_stack() -> None:
    """`retinue --help` and the commands that call no model must not pay for the OpenAI client and
    LangChain's chat models (about a second here; bench/cli_start.py)."""
    heavy = "{'openai', 'langchain_core', 'llama_cpp', 'torch', 'faiss', 'langgraph'}"
    # retinue.runs.directory: what `retinue runs list` imports
    code = f"import sys, retinue.cli, retinue.runs.directory; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
