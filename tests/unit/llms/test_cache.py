from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from retinue.errors import RetinueError
from retinue.llms.cache import PostgresResponseCache, SQLiteResponseCache
from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.usage import UsageRecorder
from retinue.postgres import check_db_url
from tests.real_parts import free_port

CacheFactory = Callable[[], SQLiteResponseCache | PostgresResponseCache]


@pytest.fixture(params=["sqlite", "postgres"])
def new_cache(request: pytest.FixtureRequest, tmp_path: Path) -> CacheFactory:
    """A factory of cache objects over one store, as separate processes would open it."""
    if request.param == "sqlite":
        return lambda: SQLiteResponseCache(tmp_path / "cache.sqlite")
    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresResponseCache(url)


def test_identical_calls_replay_across_instances(new_cache: CacheFactory) -> None:
    usage = UsageRecorder()
    first = ScriptedChatModel(responses=["cached answer"], cache=new_cache(), callbacks=[usage])
    assert first.invoke([HumanMessage("q")]).content == "cached answer"

    # A new process would build a new model and cache object; the response comes from the store.
    replay = ScriptedChatModel(responses=[], cache=new_cache(), callbacks=[usage])
    message = replay.invoke([HumanMessage("q")])
    assert message.content == "cached answer"
    assert message.response_metadata["cache_hit"] is True
    assert usage.total().calls == 1 and usage.total().cache_hits == 1


def test_key_covers_messages_and_parameters(new_cache: CacheFactory) -> None:
    cache = new_cache()
    model = ScriptedChatModel(responses=["a", "b", "c"], cache=cache)
    model.invoke([HumanMessage("q")])
    model.invoke([HumanMessage("other q")])
    model.invoke([HumanMessage("q")], response_schema={"type": "object"})
    model.assert_all_used()
    assert len(cache) == 3
    other_model = ScriptedChatModel(responses=["d"], model_name="other", cache=cache)
    assert other_model.invoke([HumanMessage("q")]).content == "d"
    cache.clear()
    assert len(cache) == 0


def test_cache_off_calls_every_time() -> None:
    model = ScriptedChatModel(responses=["a", "b"], cache=False)
    assert [model.invoke("q").content, model.invoke("q").content] == ["a", "b"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db", "give a PostgreSQL URL"),
        ("postgresql://", "give a PostgreSQL URL"),
        ("postgresql://me:secret@127.0.0.1:5432/db", "keep the password out of the URL"),
        ("postgresql://me@127.0.0.1:notaport/db", "is not a URL"),
        ("postgresql://me@127.0.0.1:{free_port}/db", "cannot reach the PostgreSQL database"),
    ],
)
def test_a_bad_db_url_is_named_in_the_error(url: str, message: str) -> None:
    url = url.format(free_port=free_port())  # chosen at run time, so that every pytest worker collects one test
    with pytest.raises(RetinueError, match=message):
        check_db_url(url)
    assert check_db_url(None) is None
