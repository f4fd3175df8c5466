"""The chat server: one static page and a small JSON + server-sent-events API over `ChatSessions`.

Every request is checked against the token when one is set (it must be set to bind beyond loopback).
The page renders all text with `textContent`, so nothing a person or a model writes becomes markup.
"""

import json
import secrets
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from retinue.agents.chat import TEAMS
from retinue.errors import RetinueError
from retinue.scenarios.chat_sessions import ChatSessions, new_session_id


class NewMessage(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    team: str = "assistant"


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def create_app(sessions: ChatSessions, token: str | None = None) -> FastAPI:
    """The app over `sessions`; with `token`, a request must carry it (Bearer header or ?token=)."""

    def check_token(request: Request) -> None:
        if token is None:
            return
        given = request.query_params.get("token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(status_code=401, detail="a valid token is required")

    app = FastAPI(title="retinue chat", dependencies=[Depends(check_token)], docs_url=None, redoc_url=None)
    page = files("retinue.web").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/api/teams")
    def teams() -> list[str]:
        return list(TEAMS)

    @app.get("/api/sessions")
    def list_sessions() -> list[dict[str, Any]]:
        return sessions.sessions()

    @app.post("/api/sessions")
    def create_session() -> dict[str, str]:
        return {"id": new_session_id()}

    @app.get("/api/sessions/{session}")
    def show_session(session: str) -> dict[str, Any]:
        state = sessions.values(session)
        return {"id": session, "team": state.get("team", "assistant"), "messages": sessions.history(session)}

    @app.get("/api/sessions/{session}/pictures/{name}")
    def show_picture(session: str, name: str) -> FileResponse:
        try:
            return FileResponse(sessions.picture(session, name), media_type="image/png")
        except RetinueError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None

    @app.get("/api/sessions/{session}/memory")
    def show_memory(session: str) -> dict[str, list[str]]:
        return sessions.memory(session)

    @app.post("/api/sessions/{session}/messages")
    def send(session: str, message: NewMessage) -> StreamingResponse:
        if message.team not in TEAMS:
            raise HTTPException(status_code=422, detail=f"no team {message.team!r}; teams: {', '.join(TEAMS)}")

        def events() -> Iterator[str]:
            try:
                for kind, data in sessions.turn(session, message.team, message.text):
                    yield _event(kind, data)
            except RetinueError as error:
                yield _event("error", {"message": str(error)})
            yield _event("done", {})

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app
