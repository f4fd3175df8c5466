"""The chat server's API with the scripted model: streamed turns, history, tokens, isolation."""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.scenarios.chat_sessions import ChatSessions
from retinue.web.app import create_app
from tests.conftest import HashEmbeddings


def _sessions(folder: Path, responses: list[str]) -> ChatSessions:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    return ChatSessions(folder, model, usage, LLMConfig(), None, embed=HashEmbeddings(64))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _sessions(tmp_path, ["Hello there.", "Again."]) as sessions, TestClient(create_app(sessions)) as client:
        yield client


def _events(body: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    events = []
    for block in body.strip().split("\n\n"):
        kind = block.split("\n")[0].removeprefix("event: ")
        events.append((kind, json.loads(block.split("\n")[1].removeprefix("data: "))))
    return events


def test_a_turn_streams_tokens_then_done_and_is_kept(client: TestClient) -> None:
    assert client.get("/").text.startswith("<!doctype html>")
    reply = client.post("/api/sessions/s1/messages", json={"text": "hi", "team": "assistant"})
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = _events(reply.text)
    assert [kind for kind, _ in events] == ["token", "token", "done"]
    assert "".join(e["text"] for kind, e in events if kind == "token") == "Hello there."
    session = client.get("/api/sessions/s1").json()
    assert session["messages"] == [{"speaker": "you", "text": "hi"}, {"speaker": "assistant", "text": "Hello there."}]
    assert client.get("/api/sessions").json()[0] | {"preview": "hi"} == {
        "id": "s1",
        "team": "assistant",
        "messages": 2,
        "preview": "hi",
    }
    assert client.get("/api/sessions/s1/memory").json() == {"session": ["hi"], "shared": []}


def test_bad_input_is_refused_plainly(client: TestClient) -> None:
    assert client.post("/api/sessions/s1/messages", json={"text": "", "team": "assistant"}).status_code == 422
    assert client.post("/api/sessions/s1/messages", json={"text": "hi", "team": "nobody"}).status_code == 422
    effiqa = _events(client.post("/api/sessions/s2/messages", json={"text": "hi", "team": "effiqa"}).text)
    assert effiqa == [("error", {"message": "the effiqa team is not available in this session"}), ("done", {})]


def test_a_token_is_checked_on_every_request(tmp_path: Path) -> None:
    with _sessions(tmp_path, []) as sessions, TestClient(create_app(sessions, token="s3cret")) as client:
        assert client.get("/").status_code == 401
        assert client.get("/api/sessions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.post("/api/sessions/x/messages", json={"text": "hi"}).status_code == 401
        assert client.get("/?token=s3cret").status_code == 200
        assert client.get("/api/sessions", headers={"Authorization": "Bearer s3cret"}).json() == []


def test_concurrent_sessions_see_only_their_own_messages(tmp_path: Path) -> None:
    with _sessions(tmp_path, ["ok."] * 12) as sessions, TestClient(create_app(sessions)) as client:

        def talk(n: int) -> None:
            client.post(f"/api/sessions/s{n}/messages", json={"text": f"message {n}"})

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(talk, range(12)))
        for n in range(12):
            history = client.get(f"/api/sessions/s{n}").json()["messages"]
            assert [m["text"] for m in history if m["speaker"] == "you"] == [f"message {n}"]


def test_only_what_is_shared_on_purpose_reaches_other_sessions(tmp_path: Path) -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=["ok.", "ok."], callbacks=[usage])
    with ChatSessions(tmp_path, model, usage, LLMConfig(cache=False), None, embed=HashEmbeddings(64)) as sessions:
        list(sessions.turn("a", "assistant", "my secret is 42"))
        sessions.share("a", "the office opens at nine")
        list(sessions.turn("b", "assistant", "when does the office open"))
        prompt = str(model.calls[1].messages[0].content)
        assert "the office opens at nine" in prompt and "secret" not in prompt
        assert sessions.memory("b") == {
            "session": ["when does the office open"],
            "shared": ["the office opens at nine"],
        }


def test_a_failed_endpoint_is_an_error_event_and_the_next_turn_goes_on(tmp_path: Path) -> None:
    refused = openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))
    with _sessions(tmp_path, [refused, "Back again."]) as sessions, TestClient(create_app(sessions)) as client:
        failed = _events(client.post("/api/sessions/s1/messages", json={"text": "hi", "team": "assistant"}).text)
        assert [kind for kind, _ in failed] == ["error", "done"]
        message = failed[0][1]["message"]
        assert message.startswith("the model endpoint at http://127.0.0.1:9/v1/chat/completions failed: ")
        assert message.endswith("send the message again once the server answers")
        again = _events(client.post("/api/sessions/s1/messages", json={"text": "hi?", "team": "assistant"}).text)
        assert "".join(e["text"] for kind, e in again if kind == "token") == "Back again."
        # The unanswered message stays in the history: nothing the person wrote is lost.
        assert [m["text"] for m in client.get("/api/sessions/s1").json()["messages"]] == ["hi", "hi?", "Back again."]
