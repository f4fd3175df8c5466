import pytest
from langchain_core.messages import HumanMessage

from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.usage import ROLE_KEY, UsageRecorder


def test_counts_calls_and_tokens_per_role() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=["one two", "three", RuntimeError("boom")], callbacks=[usage])
    model.invoke([HumanMessage("a b c")], config={"metadata": {ROLE_KEY: "analyst"}})
    model.invoke([HumanMessage("d")], config={"metadata": {ROLE_KEY: "manager"}})
    with pytest.raises(RuntimeError):
        model.invoke([HumanMessage("e")], config={"metadata": {ROLE_KEY: "manager"}})
    data = usage.to_dict()
    assert data["by_role"]["analyst"]["calls"] == 1
    assert data["by_role"]["analyst"]["prompt_tokens"] == 3
    assert data["by_role"]["analyst"]["completion_tokens"] == 2
    assert data["by_role"]["manager"]["errors"] == 1
    assert data["total"]["calls"] == 2
    assert data["total"]["latency_seconds"] >= 0


def test_streamed_calls_are_counted_once() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=["a b c"], callbacks=[usage])
    list(model.stream("x y"))
    assert usage.total().calls == 1 and usage.total().completion_tokens == 3


def test_merge_adds_saved_totals() -> None:
    usage = UsageRecorder()
    usage.merge_dict({"by_role": {"ask": {"calls": 2, "prompt_tokens": 10}}})
    usage.merge_dict({"by_role": {"ask": {"calls": 1}}})
    assert usage.by_role["ask"].calls == 3 and usage.total().prompt_tokens == 10
