from pathlib import Path

from langchain_core.messages import HumanMessage

from retinue.llms.cache import SQLiteResponseCache
from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.usage import UsageRecorder


def test_identical_calls_replay_from_disk_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    usage = UsageRecorder()
    first = ScriptedChatModel(responses=["cached answer"], cache=SQLiteResponseCache(path), callbacks=[usage])
    assert first.invoke([HumanMessage("q")]).content == "cached answer"

    # A new process would build a new model and cache object; the response comes from the file.
    replay = ScriptedChatModel(responses=[], cache=SQLiteResponseCache(path), callbacks=[usage])
    message = replay.invoke([HumanMessage("q")])
    assert message.content == "cached answer"
    assert message.response_metadata["cache_hit"] is True
    assert usage.total().calls == 1 and usage.total().cache_hits == 1


def test_key_covers_messages_and_parameters(tmp_path: Path) -> None:
    cache = SQLiteResponseCache(tmp_path / "cache.sqlite")
    model = ScriptedChatModel(responses=["a", "b", "c"], cache=cache)
    model.invoke([HumanMessage("q")])
    model.invoke([HumanMessage("other q")])
    model.invoke([HumanMessage("q")], response_schema={"type": "object"})
    model.assert_all_used()
    assert len(cache) == 3
    other_model = ScriptedChatModel(responses=["d"], model_name="other", cache=cache)
    assert other_model.invoke([HumanMessage("q")]).content == "d"


def test_cache_off_calls_every_time(tmp_path: Path) -> None:
    model = ScriptedChatModel(responses=["a", "b"], cache=False)
    assert [model.invoke("q").content, model.invoke("q").content] == ["a", "b"]
