from typing import Literal

import httpx
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.structured import OutputSchema, decide
from retinue.llms.usage import UsageRecorder


class Trade(BaseModel):
    action: Literal["BUY", "SELL", "HOLD"]
    size: float = Field(ge=0, le=1)


HOLD = Trade(action="HOLD", size=0)


def test_valid_reply_is_parsed_first_time() -> None:
    model = ScriptedChatModel(responses=['{"action": "BUY", "size": 0.5}'])
    decision = decide(model, [HumanMessage("trade?")], Trade, default=HOLD)
    assert decision.valid and decision.attempts == 1
    assert decision.value == Trade(action="BUY", size=0.5)
    schema_sent = model.calls[0].kwargs["response_schema"]
    assert schema_sent["properties"]["action"]["enum"] == ["BUY", "SELL", "HOLD"]
    model.assert_all_used()


def test_invalid_reply_is_sent_back_with_the_error() -> None:
    model = ScriptedChatModel(responses=['{"action": "YOLO", "size": 2}', '{"action": "SELL", "size": 1}'])
    decision = decide(model, [HumanMessage("trade?")], Trade, default=HOLD)
    assert decision.value.action == "SELL" and decision.attempts == 2
    repair = model.calls[1].messages[-1].content
    assert "action" in repair and "size" in repair  # both problems named
    model.assert_all_used()


def test_falls_back_to_default_and_records_it() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=["not json", "{}", '{"action": 1}'], callbacks=[usage])
    decision = decide(model, [HumanMessage("trade?")], Trade, default=HOLD, role="manager", attempts=3, usage=usage)
    assert decision.value is HOLD and not decision.valid
    assert "invalid Trade" in (decision.fallback_reason or "")
    assert usage.by_role["manager"].fallbacks == 1
    assert usage.by_role["manager"].calls == 3
    model.assert_all_used()


def test_transport_errors_are_retried_then_fall_back() -> None:
    failure = httpx.ConnectError("refused")
    model = ScriptedChatModel(responses=[failure, failure, '{"action": "HOLD", "size": 0}'])
    decision = decide(model, [HumanMessage("x")], Trade, default=HOLD, attempts=3, backoff_seconds=0)
    assert decision.valid and decision.attempts == 3
    model = ScriptedChatModel(responses=[TimeoutError("hung")] * 2)
    decision = decide(model, [HumanMessage("x")], Trade, default=HOLD, attempts=2, backoff_seconds=0)
    assert not decision.valid and "TimeoutError" in (decision.fallback_reason or "")


def test_json_schema_dicts_validate_to_dicts() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}, "required": ["n"]}
    model = ScriptedChatModel(responses=['{"n": 9}', '{"n": 2}'])
    decision = decide(model, [HumanMessage("x")], schema, default=None)
    assert decision.value == {"n": 2} and decision.attempts == 2


def test_a_broken_json_schema_is_rejected_up_front() -> None:
    import jsonschema

    with pytest.raises(jsonschema.SchemaError):
        OutputSchema({"type": "no-such-type"})
