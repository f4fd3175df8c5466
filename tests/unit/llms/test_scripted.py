import json
import time
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from retinue.errors import ConfigError
from retinue.llms.scripted import ScriptedChatModel, ScriptExhaustedError, UnusedScriptError


def test_replays_in_order_and_records_calls() -> None:
    model = ScriptedChatModel(responses=["first", {"action": "HOLD"}])
    assert model.invoke([HumanMessage("a")]).content == "first"
    assert model.invoke([HumanMessage("b")], response_schema={"type": "object"}).content == '{"action": "HOLD"}'
    assert [call.messages[0].content for call in model.calls] == ["a", "b"]
    assert model.calls[1].kwargs == {"response_schema": {"type": "object"}}
    model.assert_all_used()


def test_unused_responses_fail() -> None:
    model = ScriptedChatModel(responses=["one", "two"])
    model.invoke("x")
    with pytest.raises(UnusedScriptError, match="1 scripted response"):
        model.assert_all_used()


def test_exhausted_script_raises() -> None:
    model = ScriptedChatModel(responses=[])
    with pytest.raises(ScriptExhaustedError):
        model.invoke("x")


def test_exception_steps_raise() -> None:
    model = ScriptedChatModel(responses=[TimeoutError("slow"), "ok"])
    with pytest.raises(TimeoutError):
        model.invoke("x")
    assert model.invoke("x").content == "ok"


def test_streams_words_with_usage() -> None:
    model = ScriptedChatModel(responses=["hold the position"])
    chunks = list(model.stream("should I sell"))
    assert "".join(str(c.content) for c in chunks) == "hold the position"
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.usage_metadata == {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}


def test_a_script_can_keep_a_core_busy_per_call(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"responses": ["a", "b"], "compute_seconds": 0.05}))
    model = ScriptedChatModel.from_file(path)
    started = time.process_time()
    assert [model.invoke("q").content, model.invoke("q").content] == ["a", "b"]
    assert time.process_time() - started >= 0.1  # CPU time, as a model's inference would spend it


@pytest.mark.parametrize("compute", [-1, "fast", True])
def test_a_bad_compute_time_is_named(tmp_path: Path, compute: object) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"responses": ["a"], "compute_seconds": compute}))
    with pytest.raises(ConfigError, match="compute_seconds"):
        ScriptedChatModel.from_file(path)
