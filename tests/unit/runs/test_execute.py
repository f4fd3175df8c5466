import shutil
from pathlib import Path

import pytest

from retinue.agents.ask import AskContext
from retinue.config import LLMConfig
from retinue.graphs.ask import build_ask_graph
from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.usage import UsageRecorder
from retinue.runs.directory import RunDirectory, list_runs
from retinue.runs.execute import execute

PROMPTS = ["first?", "second?", "third?"]


def _context(responses: list[object]) -> AskContext:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    return AskContext(llm=model, usage=usage, llm_config=LLMConfig(provider="scripted"))


def _run(tmp_path: Path) -> RunDirectory:
    return RunDirectory.create("ask", {"prompts": PROMPTS}, tmp_path / "run", tmp_path)


def test_a_run_records_its_outcome_usage_and_progress(tmp_path: Path) -> None:
    run = _run(tmp_path)
    context = _context(["a1", "a2", "a3"])
    final = execute(
        build_ask_graph(), run=run, context=context, usage=context.usage, inputs={"prompts": PROMPTS, "answers": []}
    )
    assert [a["text"] for a in final["answers"]] == ["a1", "a2", "a3"]
    record = run.record()
    assert record["status"] == "completed" and record["duration_seconds"] >= 0
    assert record["progress"] == {"ask": [3, 3]}
    assert "langgraph" in record["versions"]
    assert run.usage()["by_role"]["ask"]["calls"] == 3
    assert run.checkpoints_path.exists() and (run.store_path / "items.sqlite").exists()
    assert list_runs(tmp_path) == [run]


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        execute(
            build_ask_graph(),
            run=run,
            context=(first := _context(["a1", KeyboardInterrupt()])),
            usage=first.usage,
            inputs={"prompts": PROMPTS, "answers": []},
        )
    assert run.record()["status"] == "interrupted"
    assert run.record()["progress"] == {"ask": [1, 3]}

    resumed = _context(["a2", "a3"])
    final = execute(build_ask_graph(), run=run, context=resumed, usage=resumed.usage, inputs={}, resume=True)
    assert [a["text"] for a in final["answers"]] == ["a1", "a2", "a3"]
    assert resumed.llm.calls[0].messages[-1].content == "second?"  # prompt 1 was not asked again
    resumed.llm.assert_all_used()
    assert run.record()["status"] == "completed"
    assert run.usage()["by_role"]["ask"]["calls"] == 3  # counts carried over from the first attempt

    again = _context([])
    final_again = execute(build_ask_graph(), run=run, context=again, usage=again.usage, inputs={}, resume=True)
    assert final_again["answers"] == final["answers"] and not again.llm.calls


def test_a_run_stopped_between_a_step_and_its_checkpoint_resumes_with_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step's writes are saved as it finishes, the checkpoint after it a moment later. Stopped in
    between, LangGraph's snapshot lists no next task (the step's one task has its writes), which once
    passed for a finished run: a TSLA backtest stopped so resumed "finished" with 26 of 170 days."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    put = SqliteSaver.put
    calls = {"n": 0}

    def stop_at_third_checkpoint(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # input, first step's start, then this: after the first answer's writes
            raise KeyboardInterrupt
        return put(self, config, checkpoint, metadata, new_versions)

    run = _run(tmp_path)
    monkeypatch.setattr(SqliteSaver, "put", stop_at_third_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        execute(
            build_ask_graph(),
            run=run,
            context=(first := _context(["a1", "a2", "a3"])),
            usage=first.usage,
            inputs={"prompts": PROMPTS, "answers": []},
        )
    monkeypatch.setattr(SqliteSaver, "put", put)
    assert len(first.llm.calls) == 1

    resumed = _context(["a2", "a3"])
    final = execute(build_ask_graph(), run=run, context=resumed, usage=resumed.usage, inputs={}, resume=True)
    assert [a["text"] for a in final["answers"]] == ["a1", "a2", "a3"]
    resumed.llm.assert_all_used()


def test_a_run_killed_outright_keeps_the_time_of_its_finished_steps(tmp_path: Path) -> None:
    """No handler runs on SIGKILL (SystemExit stands in for it here: execute catches neither), so the time
    is written with each step's progress, on top of what earlier sessions of the run took."""
    run = _run(tmp_path)
    run.update_record(duration_seconds=100.0)
    with pytest.raises(SystemExit):
        execute(
            build_ask_graph(),
            run=run,
            context=(first := _context(["a1", SystemExit(9)])),
            usage=first.usage,
            inputs={"prompts": PROMPTS, "answers": []},
        )
    record = run.record()
    assert record["status"] == "running" and record["progress"] == {"ask": [1, 3]}
    assert record["duration_seconds"] > 100.0
    killed_at = record["duration_seconds"]

    resumed = _context(["a2", "a3"])
    execute(build_ask_graph(), run=run, context=resumed, usage=resumed.usage, inputs={}, resume=True)
    assert run.record()["status"] == "completed" and run.record()["duration_seconds"] > killed_at


def test_a_failed_run_says_why(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with pytest.raises(RuntimeError):
        execute(
            build_ask_graph(),
            run=run,
            context=(failing := _context([RuntimeError("model crashed")])),
            usage=failing.usage,
            inputs={"prompts": PROMPTS, "answers": []},
        )
    assert run.record()["status"] == "failed" and "model crashed" in run.record()["error"]


def test_a_run_made_elsewhere_is_listed_with_the_runs_folders_own(tmp_path: Path) -> None:
    root = tmp_path / "home" / "runs"
    here = RunDirectory.create("ask", {"prompts": ["a"]}, None, root)
    there = RunDirectory.create("ask", {"prompts": ["b"]}, tmp_path / "mine" / "run", root)
    episode = RunDirectory.create("ask", {}, here.path / "episodes" / "1", here.path / "episodes")
    listed = [run.path for run in list_runs(root)]
    assert listed == [there.path.resolve(), here.path.resolve()]  # newest first; an episode is its run's
    assert episode.path.resolve() not in listed
    shutil.rmtree(there.path)  # a listed run that is gone is not listed
    assert [run.path for run in list_runs(root)] == [here.path.resolve()]
