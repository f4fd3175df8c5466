"""The Python API on the real parts: `retinue.run` runs the README's example, a backtest on real prices
(the same figures as the CLI's), and an EffiQA question with the embedded model over a real graph."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import retinue

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "market").is_dir(), reason="the shared data is not there"),
]

TURTLE = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:alien ex:directed_by ex:scott ; rdfs:label "Alien" .
ex:blade ex:directed_by ex:scott ; ex:starred_actors ex:ford ; rdfs:label "Blade Runner" .
ex:scott rdfs:label "Ridley Scott" .
ex:ford rdfs:label "Harrison Ford" .
"""


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README.md has a ## Python section with a python example"
    return match.group(1)


def test_the_readmes_python_example_runs() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_readme_example(), "README.md", "exec"), namespace)  # noqa: S102 - our own documented example
    result = namespace["result"]
    assert isinstance(result, retinue.RunResult)
    assert (result.path / "metrics.json").is_file() and result.metrics["trading_days"] > 50


def test_a_backtest_from_python_gives_the_clis_figures(tmp_path: Path) -> None:
    scenario = retinue.BacktestScenario(
        method="macd", tickers=["NFLX", "AAPL"], start="2022-10-05", end="2023-01-31", cost_bps=10
    )  # type: ignore[arg-type]
    result = retinue.run(scenario, out=tmp_path / "api")
    done = subprocess.run(
        [sys.executable, "-m", "retinue.cli", "backtest", "--method", "macd", "--tickers", "NFLX,AAPL"]
        + ["--start", "2022-10-05", "--end", "2023-01-31", "--cost-bps", "10", "--out", str(tmp_path / "cli")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert {k: v for k, v in result.metrics.items() if k != "wall_seconds"} == {
        k: v for k, v in cli.items() if k != "wall_seconds"
    }
    assert (result.path / "report.html").is_file() and (result.path / "trades.csv").is_file()
    _, loaded = retinue.load_scenario(result.path)
    assert loaded == scenario.model_copy(update={"data_dir": loaded.data_dir})


def test_an_effiqa_question_from_python_with_the_embedded_model(tmp_path: Path, gguf_path: Path) -> None:
    graph = tmp_path / "films.ttl"
    graph.write_text(TURTLE)
    question = {"text": "who directed [Blade Runner]", "answers": ["Ridley Scott"], "answerable": True}
    scenario = retinue.EffiQAScenario(method="tog", kg=graph, questions=[question])
    result = retinue.run(scenario, out=tmp_path / "run")
    answer = result.final["results"][0]
    assert result.metrics["questions"] == 1 and result.metrics["llm_calls"] >= 2
    assert answer["prediction"] is not None or answer["note"]
    assert (result.path / "predictions.jsonl").read_text().count("\n") == 1
    again = retinue.run(resume=result.path)  # a finished run is only reported again
    assert again.metrics == result.metrics


def test_a_baseline_backtest_loads_no_model_stack(tmp_path: Path) -> None:
    """A backtest that asks no model imports neither torch nor the OpenAI client nor llama.cpp (it took
    5.6 s for 0.1 s of work when it did)."""
    code = (
        "import sys, retinue; from pathlib import Path; "
        "retinue.run(retinue.BacktestScenario(method='buy_and_hold', tickers=['TSLA'], start='2022-10-05', "
        f"end='2022-10-20'), out=Path({str(tmp_path / 'run')!r})); "
        "print(sorted({'torch', 'openai', 'llama_cpp', 'transformers'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
