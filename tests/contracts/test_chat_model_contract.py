"""One suite, every chat model in the seam: scripted, embedded llama.cpp, and the OpenAI client path."""

import json

import jsonschema
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage

from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel, UsageRecorder, make_chat_model

SCHEMA = {
    "title": "Verdict",
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]}},
    "required": ["action"],
}
PROMPT = [HumanMessage("Say something short about markets.")]


@pytest.fixture(
    params=["scripted", pytest.param("embedded", marks=pytest.mark.e2e), pytest.param("openai", marks=pytest.mark.e2e)]
)
def chat_model(request: pytest.FixtureRequest) -> tuple[BaseChatModel, UsageRecorder]:
    usage = UsageRecorder()
    if request.param == "scripted":
        model: BaseChatModel = ScriptedChatModel(
            responses=["markets move", "markets move", '{"action": "HOLD"}'], callbacks=[usage]
        )
    elif request.param == "embedded":
        gguf = request.getfixturevalue("gguf_path")
        model = make_chat_model(LLMConfig(model=str(gguf), max_tokens=32, cache=False), usage=usage)
    else:
        url = request.getfixturevalue("llama_server")
        model = make_chat_model(
            LLMConfig(provider="openai", base_url=url, model="gemma", max_tokens=32, cache=False), usage=usage
        )
    return model, usage


def test_invoke_returns_text_with_token_usage(chat_model: tuple[BaseChatModel, UsageRecorder]) -> None:
    model, usage = chat_model
    reply = model.invoke(PROMPT)
    assert isinstance(reply, AIMessage) and isinstance(reply.content, str) and reply.content.strip()
    assert reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    assert reply.usage_metadata["output_tokens"] > 0
    assert usage.total().calls == 1


def test_stream_yields_the_reply_in_pieces(chat_model: tuple[BaseChatModel, UsageRecorder]) -> None:
    model, usage = chat_model
    model.invoke(PROMPT)
    chunks = list(model.stream(PROMPT))
    assert len([c for c in chunks if c.content]) > 1
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert str(merged.content).strip()
    assert merged.usage_metadata and merged.usage_metadata["output_tokens"] > 0
    assert usage.total().calls == 2


def test_response_schema_yields_valid_json(chat_model: tuple[BaseChatModel, UsageRecorder]) -> None:
    model, _ = chat_model
    model.invoke(PROMPT)
    list(model.stream(PROMPT))
    reply = model.invoke(PROMPT, response_schema=SCHEMA)
    jsonschema.validate(json.loads(str(reply.content)), SCHEMA)
    if isinstance(model, ScriptedChatModel):
        model.assert_all_used()
