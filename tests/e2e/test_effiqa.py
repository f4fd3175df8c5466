"""EffiQA end to end on the real parts: MetaQA's kb in rdflib, the plug-in model trained on MiniLM
embeddings, the embedded Gemma model planning and reflecting, and every baseline, through the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SHARED / "metaqa").is_dir(), reason="the shared MetaQA data is not there"),
]


def _cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETINUE_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=900, env=env
    )


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plug-in model trained on a seeded subset: 300 questions per hop, validated on 300 per hop."""
    out = tmp_path_factory.mktemp("explorer") / "run"
    home = tmp_path_factory.mktemp("explorer_home")
    done = _cli("train", "explorer", "--limit", "300", "--epochs", "100", "--out", str(out), home=home)
    assert done.returncode == 0, done.stderr
    return out


def test_the_plugin_model_learns_relation_paths(explorer: Path) -> None:
    metrics = json.loads((explorer / "metrics.json").read_text())
    assert metrics["train_questions"] == 900 and metrics["validation_questions"] == 900
    assert metrics["validation_path_accuracy"] >= 0.95, metrics
    card = json.loads((explorer / "model" / "card.json").read_text())
    assert card["split_seed"] == 0 and "^starred_actors" in card["vocabulary"]


def _evaluate(method: str, explorer: Path, out: Path, *extra: str) -> tuple[dict, list[dict], dict]:  # type: ignore[type-arg]
    done = _cli("eval", "effiqa", "--method", method, "--explorer", str(explorer / "model"), "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    usage = json.loads((out / "usage.json").read_text())["total"]
    return metrics, predictions, usage


@pytest.mark.slow
def test_effiqa_answers_with_the_embedded_model_and_counts_its_calls(
    explorer: Path, tmp_path: Path, gguf_path: Path
) -> None:
    metrics, predictions, usage = _evaluate("effiqa", explorer, tmp_path / "run", "--hops", "2", "--limit", "3")
    assert metrics["questions"] == 3 == len(predictions)
    assert metrics["llm_calls"] == usage["calls"] + usage["cache_hits"] == sum(p["llm_calls"] for p in predictions)
    # per round: a pick per planned step (at most 3), the reflector's reason, verdict and its calibration
    assert 3 <= metrics["llm_calls_per_question"] <= 12
    assert all(p["plan"] is not None and p["plan"]["path"] and p["prediction"] for p in predictions)
    assert all(0 < p["plan"]["confidence"] <= 1 for p in predictions)
    assert all(p["supporting"] and len(p["supporting"][0]) == len(p["path"]) for p in predictions)


@pytest.mark.slow
def test_baselines_run_in_the_same_harness(explorer: Path, tmp_path: Path, gguf_path: Path) -> None:
    plugin, _, usage = _evaluate("plugin", explorer, tmp_path / "plugin", "--hops", "3", "--limit", "20")
    assert plugin["llm_calls"] == 0 == usage["calls"] and plugin["hits_at_1_answerable"] >= 0.85
    io, io_predictions, usage = _evaluate("io", explorer, tmp_path / "io", "--limit", "2")
    assert io["llm_calls"] == sum(p["llm_calls"] for p in io_predictions) == usage["calls"] + usage["cache_hits"] >= 2
    tog, tog_predictions, usage = _evaluate("tog", explorer, tmp_path / "tog", "--limit", "1")
    # a repeated prompt within the run is a cache hit: still a call the method made
    assert tog["llm_calls"] == usage["calls"] + usage["cache_hits"] == tog_predictions[0]["llm_calls"] >= 2


def test_ask_kg_prints_the_answer_with_its_path(explorer: Path, tmp_path: Path) -> None:
    done = _cli("ask-kg", "who directed [Kismet]", "--method", "plugin", "--explorer", str(explorer / "model"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "William Dieterle" and lines[1] == "path: directed_by"
    assert "(Kismet, directed_by, William Dieterle)" in lines[2]


def test_bad_questions_and_graphs_get_clear_answers_or_errors(explorer: Path, tmp_path: Path) -> None:
    model = ["--method", "plugin", "--explorer", str(explorer / "model")]
    unknown = _cli("ask-kg", "who directed [Not A Film 123]", *model)
    assert unknown.returncode == 0 and "no answer: 'Not A Film 123' is not an entity" in unknown.stdout
    injected = _cli("ask-kg", 'who directed [x" } ; DROP ALL ; SELECT * { ?s ?p ?o]', *model)
    assert injected.returncode == 0 and "no answer" in injected.stdout and "Traceback" not in injected.stderr
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b")
    broken = _cli("ask-kg", "who directed [Alien]", "--kg", str(bad), *model)
    assert broken.returncode == 1 and "is not valid turtle" in broken.stderr and "Traceback" not in broken.stderr
    wrong_seed = _cli("eval", "effiqa", "--seed", "1", *model, "--out", str(tmp_path / "leak"))
    assert wrong_seed.returncode == 1 and "trained on the dev split of seed 0" in wrong_seed.stderr


TURTLE = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:alien rdfs:label "Alien" ; ex:directed_by ex:scott ; ex:starred_actors ex:weaver .
ex:blade_runner rdfs:label "Blade Runner" ; ex:directed_by ex:scott ; ex:starred_actors ex:ford .
ex:scott rdfs:label "Ridley Scott" .
ex:weaver rdfs:label "Sigourney Weaver" .
ex:ford rdfs:label "Harrison Ford" .
"""


def test_ask_kg_over_a_users_turtle_file_without_brackets(explorer: Path, tmp_path: Path) -> None:
    graph = tmp_path / "films.ttl"
    graph.write_text(TURTLE)
    model = ["--method", "plugin", "--explorer", str(explorer / "model"), "--kg", str(graph)]
    done = _cli("ask-kg", "who starred in Blade Runner", *model)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["Harrison Ford", "path: starred_actors"]


def test_a_stopped_evaluation_resumes_where_it_stopped(explorer: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("who directed [Kismet]\tWilliam Dieterle\nwho wrote [Kismet]\tEdward Knoblock\n")
    script = tmp_path / "script.json"
    end = "end the path here"
    accept = [{"reason": "fits"}, "accept"]  # the reflector's reason, then its verdict
    script.write_text(json.dumps({"responses": ["directed by", end, *accept, "written by", end]}))
    run = tmp_path / "run"
    common = ["--questions", str(questions), "--explorer", str(explorer / "model"), "--no-cache"]
    stopped = _cli("eval", "effiqa", *common, "--llm", "scripted", "--script", str(script), "--out", str(run))
    assert stopped.returncode == 1 and "--resume" in stopped.stderr and "Traceback" not in stopped.stderr
    assert not (run / "metrics.json").exists()
    script.write_text(json.dumps({"responses": accept}))  # the second question stopped before its reflection
    resumed = _cli("eval", "effiqa", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    predictions = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
    assert [p["prediction"] for p in predictions] == ["William Dieterle", "Edward Knoblock"]
    # two planner picks with their PMI premises, the reflector's reason, verdict and calibration; the
    # second question's first premise is the first's (the same steps lead on from Kismet) and was known,
    # its verdict's calibration was not (the resumed process asked it anew)
    assert [p["llm_calls"] for p in predictions] == [7, 6] and metrics["llm_calls"] == 13
    assert metrics["hits_at_1"] == 1.0
