"""Chat sessions, shared by the terminal and the web page: the chat graph compiled over one SQLite
checkpointer (a session is a thread) and one FaissStore (each session's memory in its own namespace)."""

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage

from retinue.agents.chat import TEAMS, ChatContext, TeamResources
from retinue.errors import RetinueError
from retinue.llms.failures import endpoint_failures_explained
from retinue.llms.usage import UsageRecorder
from retinue.memory.namespaces import SHARED_MEMORY, chat_session

EffiQALoader = Callable[[], tuple[Any, Any, Any]]
PICTURE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}\.png")


def new_session_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _pictures(message: BaseMessage) -> dict[str, list[str]]:
    names = message.additional_kwargs.get("pictures") if isinstance(message.additional_kwargs, dict) else None
    return {"pictures": list(names)} if names else {}


def speaker(message: BaseMessage) -> str:
    return "you" if message.type == "human" else (getattr(message, "name", None) or "assistant")


class ChatSessions:
    """All sessions under one folder. Turns of different sessions may run at once (the web server's
    threads); the embedded model serialises its own calls."""

    def __init__(
        self,
        folder: Path,
        llm: Any,
        usage: UsageRecorder,
        llm_config: Any,
        load_effiqa: EffiQALoader | None,
        embed: Embeddings | None = None,
        load_fincon: Callable[[], Any] | None = None,
        load_tips: Callable[[], tuple[Any, Any]] | None = None,
    ) -> None:
        """`embed` indexes the memory (default: MiniLM, as every run's memory)."""
        from langgraph.checkpoint.sqlite import SqliteSaver

        from retinue.graphs.chat import build_chat_graph
        from retinue.memory.embeddings import MiniLMEmbeddings
        from retinue.memory.faiss_store import FaissStore
        from retinue.sqlitefiles import connect_shared

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        embed = embed or MiniLMEmbeddings()
        self.conn = connect_shared(folder / "sessions.sqlite")  # `retinue chat` and `retinue serve` share it
        dims = len(embed.embed_query("dimensions"))
        self.store = FaissStore(folder / "store", index={"dims": dims, "embed": embed, "fields": ["text"]})
        saver = SqliteSaver(self.conn)
        saver.setup()  # the tables exist before the first turn, so an empty list of sessions reads as one
        self.graph = build_chat_graph().compile(checkpointer=saver, store=self.store)
        self.llm, self.usage, self.llm_config = llm, usage, llm_config
        self.tools = TeamResources(load_effiqa=load_effiqa, load_fincon=load_fincon, load_tips=load_tips)

    def close(self) -> None:
        self.store.close()
        self.conn.close()

    def __enter__(self) -> "ChatSessions":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def values(self, session: str) -> dict[str, Any]:
        return dict(self.graph.get_state({"configurable": {"thread_id": session}}).values)

    def history(self, session: str) -> list[dict[str, Any]]:
        return [
            {"speaker": speaker(m), "text": str(m.content), **_pictures(m)}
            for m in self.values(session).get("messages", [])
        ]

    def pictures_folder(self, session: str) -> Path:
        """Where a session's pictures go: a folder named by a hash of the id, whatever characters it has."""
        return self.folder / "pictures" / hashlib.sha256(session.encode()).hexdigest()[:24]

    def picture(self, session: str, name: str) -> Path:
        """A picture a team made in `session`; only plain names of files that exist."""
        path = self.pictures_folder(session) / name
        if not PICTURE_NAME.fullmatch(name) or not path.is_file():
            raise RetinueError(f"no picture {name!r} in session {session!r}")
        return path

    def turn(self, session: str, team: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Stream one turn: ("token", {agent, text}) pieces of a reply as the model writes it, ("step",
        {agent, text}) for a team's intermediate steps, ("message", {agent, text}) for a reply that was not
        streamed."""
        if team not in TEAMS:
            raise RetinueError(f"no team {team!r}; teams: {', '.join(TEAMS)}")
        if not text.strip():
            raise RetinueError("the message is empty")
        self.tools.prepare(team)  # a team's tools fail to load here, before the turn is recorded
        context = ChatContext(
            llm=self.llm,
            usage=self.usage,
            llm_config=self.llm_config,
            session=session,
            tools=self.tools,
            pictures=self.pictures_folder(session),
        )
        # With a list of modes LangGraph yields (mode, chunk) pairs; its overloads do not say so.
        parts: Iterator[tuple[str, Any]] = self.graph.stream(  # type: ignore[assignment]
            {"messages": [HumanMessage(text)], "team": team},
            {"configurable": {"thread_id": session}},
            context=context,
            stream_mode=["messages", "custom", "updates"],
        )
        with endpoint_failures_explained("the session is kept: send the message again once the server answers"):
            yield from self._events(parts)

    @staticmethod
    def _events(parts: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        streamed: set[str] = set()
        for mode, chunk in parts:
            if mode == "messages":
                message, metadata = chunk
                agent = metadata.get("langgraph_node", "")
                # Chunks only: the node's finished message comes through this stream too, whole.
                if agent == "assistant" and isinstance(message, AIMessageChunk) and message.content:
                    streamed.add(agent)
                    yield "token", {"agent": agent, "text": str(message.content)}
            elif mode == "custom" and isinstance(chunk, dict) and "step" in chunk:
                yield "step", dict(chunk["step"])
            elif mode == "updates":
                for agent, update in chunk.items():
                    for message in (update or {}).get("messages", []):
                        if agent not in streamed:
                            yield "message", {"agent": agent, "text": str(message.content), **_pictures(message)}

    def sessions(self) -> list[dict[str, Any]]:
        threads = [row[0] for row in self.conn.execute("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id")]
        listed = []
        for thread in threads:
            state = self.values(thread)
            messages = state.get("messages", [])
            first = next((str(m.content) for m in messages if m.type == "human"), "")
            listed.append(
                {"id": thread, "team": state.get("team", ""), "messages": len(messages), "preview": first[:80]}
            )
        return listed

    def memory(self, session: str) -> dict[str, list[str]]:
        return {
            title: [str(item.value.get("text", "")) for item in self.store.search(namespace, limit=50)]
            for title, namespace in (("session", chat_session(session)), ("shared", SHARED_MEMORY))
        }

    def share(self, session: str, text: str) -> None:
        """Put `text` in the shared memory, on purpose: every session's assistant may recall it."""
        if not text.strip():
            raise RetinueError("nothing to share")
        self.store.put(
            SHARED_MEMORY, f"{session}-{secrets.token_hex(6)}", {"text": text.strip(), "from_session": session}
        )

    def transcript(self, session: str) -> str:
        state = self.values(session)
        lines = [f"# chat session {session} (team {state.get('team', '?')})", ""]
        for message in state.get("messages", []):
            lines += [f"**{speaker(message)}**: {message.content}", ""]
        return "\n".join(lines)
