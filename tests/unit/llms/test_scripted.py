import pytest
from langchain_core.messages import HumanMessage

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
