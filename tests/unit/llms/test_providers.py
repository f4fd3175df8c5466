import json
from pathlib import Path
from typing import Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from retinue.config import LLMConfig
from retinue.errors import ConfigError, RetinueError
from retinue.llms import ScriptedChatModel, UsageRecorder, make_chat_model
from retinue.llms.cache import SQLiteResponseCache
from retinue.llms.llama_cpp import normalise_messages
from retinue.llms.openai_compatible import OpenAICompatibleChatModel


def test_openai_needs_a_key_or_a_local_endpoint() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(LLMConfig(provider="openai"))


def test_openai_reads_settings_from_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    model = make_chat_model(LLMConfig(provider="openai", api_key_env="MY_KEY", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(model, OpenAICompatibleChatModel)
    assert model.model_name == "from-env" and model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.structured_output_dialect == "openai_json_schema"


def test_scripted_provider_loads_its_script_with_cache_and_usage(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": ["hi", {"a": 1}]}))
    usage = UsageRecorder()
    cache = SQLiteResponseCache(tmp_path / "cache.sqlite")
    model = make_chat_model(LLMConfig(provider="scripted", script=script), cache=cache, usage=usage)
    assert isinstance(model, ScriptedChatModel) and model.cache is cache
    assert model.invoke("x").content == "hi" and usage.total().calls == 1
    no_cache = make_chat_model(LLMConfig(provider="scripted", script=script, cache=False), cache=cache)
    assert no_cache.cache is False


def test_broken_script_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"responses": "not a list"}')
    with pytest.raises(ConfigError, match="responses"):
        make_chat_model(LLMConfig(provider="scripted", script=bad))


def test_missing_gguf_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="GGUF model file not found"):
        make_chat_model(LLMConfig(model=str(tmp_path / "missing.gguf")))
    (tmp_path / "gone.gguf").write_bytes(b"GGUF")
    model = make_chat_model(LLMConfig(model=str(tmp_path / "gone.gguf")))
    (tmp_path / "gone.gguf").unlink()  # removed after the check: the model says so when it loads
    with pytest.raises(RetinueError, match="GGUF model file not found"):
        model.invoke("x")


def test_messages_are_normalised_for_strict_chat_templates() -> None:
    messages = [
        SystemMessage("rules"),
        HumanMessage("q1"),
        SystemMessage("schema"),
        HumanMessage("q2"),
        AIMessage("a"),
        AIMessage("b"),
    ]
    assert normalise_messages(messages) == [
        {"role": "system", "content": "rules\n\nschema"},
        {"role": "user", "content": "q1\n\nq2"},
        {"role": "assistant", "content": "a\n\nb"},
    ]


def test_grammar_schema_turns_numeric_bounds_into_enums_that_validate() -> None:
    import jsonschema

    from retinue.llms.llama_cpp import grammar_schema

    schema = {
        "type": "object",
        "properties": {
            "p": {"type": "number", "minimum": 0, "maximum": 1, "description": "kept"},
            "n": {"type": "integer", "minimum": -2, "maximum": 2},
            "big": {"type": "integer", "minimum": 0, "maximum": 10**6},
            "nested": {"type": "array", "items": {"type": "number", "minimum": 5, "maximum": 6}},
        },
    }
    converted = grammar_schema(schema)
    p = converted["properties"]["p"]
    assert len(p["enum"]) == 101 and p["description"] == "kept" and "type" not in p
    assert converted["properties"]["n"]["enum"] == [-2, -1, 0, 1, 2]
    assert converted["properties"]["big"] == schema["properties"]["big"]  # too many values: left alone
    assert converted["properties"]["nested"]["items"]["enum"][-1] == 6
    for value in p["enum"]:
        jsonschema.validate({"p": value}, schema)


def test_a_structured_reply_gets_the_tokens_its_schema_allows() -> None:
    """FinCon's CVRF insights (five strings of up to 160 characters) were cut off at the default 256
    tokens, so risk control fell back on every try; the grammar's longest reply now sets the limit."""
    from pydantic import BaseModel, Field

    from retinue.agents.fincon.cvrf import Insights
    from retinue.llms.llama_cpp import LlamaCppChatModel, reply_chars

    class Pick(BaseModel):
        action: Literal["BUY", "SELL"]
        notes: list[str] = Field(max_length=2)

    assert reply_chars(Insights.model_json_schema()) == 2 + 5 * 162 + sum(len(k) + 4 for k in Insights.model_fields)
    assert reply_chars({"type": "object", "properties": {"a": {"type": "string"}}}) is None  # unbounded
    assert reply_chars(Pick.model_json_schema()) is None  # strings of any length in the list
    bounded = {"type": "array", "maxItems": 2, "items": {"$ref": "#/$defs/A"}, "$defs": {"A": {"enum": ["x", 1]}}}
    assert reply_chars(bounded) == 2 + 2 * 4
    model = LlamaCppChatModel(model_path="unused.gguf", max_tokens=256)
    assert model._reply_tokens(Insights.model_json_schema()) > 800
    assert model._reply_tokens(Pick.model_json_schema()) == 256 == model._reply_tokens(None)
    # The response cache's key changes for the replies that could have been cut off before, and only those.
    assert "reply_max_tokens" in model._get_llm_string(response_schema=Insights.model_json_schema())
    assert "reply_max_tokens" not in model._get_llm_string(response_schema=Pick.model_json_schema())


def test_the_embedded_model_is_a_path_or_a_registered_trained_gemma(tmp_path: Path) -> None:
    from retinue.llms.llama_cpp import LlamaCppChatModel
    from retinue.models.registry import register

    folder = tmp_path / "cpt"
    folder.mkdir()
    (folder / "card.json").write_text("{}")
    register("cpt-test", folder)
    with pytest.raises(ConfigError, match="'cpt-test' has no model.gguf"):
        make_chat_model(LLMConfig(model="cpt-test"))
    (folder / "model.gguf").write_bytes(b"GGUF")
    named = make_chat_model(LLMConfig(model="cpt-test"))
    assert isinstance(named, LlamaCppChatModel) and named.model_path == str(folder.resolve() / "model.gguf")
    (tmp_path / "other.gguf").write_bytes(b"GGUF")
    given = make_chat_model(LLMConfig(model=str(tmp_path / "other.gguf")))  # not registered: taken as a path
    assert isinstance(given, LlamaCppChatModel) and given.model_path == str(tmp_path / "other.gguf")


def test_the_stock_model_can_be_named() -> None:
    from retinue.llms.llama_cpp import default_model_path
    from retinue.llms.providers import embedded_model_path

    assert embedded_model_path("gemma3-270m") == embedded_model_path(None) == str(default_model_path())


def test_a_model_trained_on_the_choice_prompts_is_not_calibrated(tmp_path: Path) -> None:
    from retinue.llms.llama_cpp import LlamaCppChatModel
    from retinue.models.registry import register

    for name, card in (("trained-agent", {"choice_roles": ["actor", "planner"]}), ("cpt-other", {})):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "card.json").write_text(json.dumps(card))
        (folder / "model.gguf").write_bytes(b"GGUF")
        register(name, folder)
    trained = make_chat_model(LLMConfig(model="trained-agent"))
    other = make_chat_model(LLMConfig(model="cpt-other"))
    assert isinstance(trained, LlamaCppChatModel) and isinstance(other, LlamaCppChatModel)
    assert trained.trained_roles == {"actor", "planner"} and other.trained_roles == frozenset()
    assert make_chat_model(LLMConfig(model="gemma3-270m")).trained_roles == frozenset()  # type: ignore[attr-defined]
