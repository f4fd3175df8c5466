"""`retinue chat`: a conversation with an agent team in the terminal, kept as a LangGraph thread.

Sessions live in one SQLite checkpointer under RETINUE_HOME/chat: closing the terminal and reopening
the session with `--session ID` continues exactly where it stopped. Replies stream token by token;
a team's intermediate steps are shown as they finish.
"""

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from retinue.cli.common import (
    BaseUrlOption,
    ConfigOption,
    LLMOption,
    ModelOption,
    NoCacheOption,
    ScriptOption,
    err,
    llm_overrides,
    out,
    run_chat_model,
)
from retinue.cli.effiqa import DataDirOption, ExplorerOption, KGOption
from retinue.errors import RetinueError

HELP = """commands:
  /help              this list
  /team [NAME]       show the team, or switch to NAME (assistant, effiqa)
  /reset             start a new session with the same team
  /sessions          list the saved sessions (reopen one with: retinue chat --session ID)
  /memory            what this session remembers, and the shared memory
  /save [FILE]       write the conversation to a Markdown file
  /quit              leave (the session is kept)"""


def chat(
    team: Annotated[str, typer.Option(help="assistant | effiqa.")] = "assistant",
    session: Annotated[str | None, typer.Option(help="Reopen this session (or start one with this id).")] = None,
    kg: KGOption = None,
    explorer: ExplorerOption = None,
    data_dir: DataDirOption = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Chat with an agent team. Type a message; /help lists the commands; Ctrl-D or /quit leaves."""
    from retinue.agents.chat import TEAMS

    if team not in TEAMS:
        raise RetinueError(f"--team: {team!r} is not one of {', '.join(TEAMS)}")
    llm_config = load_llm(config, llm, model, base_url, script, no_cache)
    with ChatSession.open(llm_config, kg, explorer, data_dir) as sessions:
        sessions.run(session or new_session_id(), team)


def load_llm(config: Any, llm: Any, model: Any, base_url: Any, script: Any, no_cache: bool) -> Any:
    from retinue.config import load_settings

    return load_settings(config, llm_overrides(llm, model, base_url, script, no_cache)).llm


def new_session_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class ChatSession:
    """The chat graph compiled over the sessions database and the chat memory, and the REPL around it."""

    def __init__(self, graph: Any, conn: sqlite3.Connection, store: Any, tools: Any, llm_config: Any) -> None:
        from retinue.llms import UsageRecorder

        self.graph, self.conn, self.store, self.tools = graph, conn, store, tools
        self.usage = UsageRecorder()
        self.llm = run_chat_model(llm_config, self.usage)
        self.llm_config = llm_config

    @classmethod
    def open(cls, llm_config: Any, kg: Path | None, explorer: Path | None, data_dir: Path | None) -> "ChatSession":
        from langgraph.checkpoint.sqlite import SqliteSaver

        from retinue.agents.chat import ChatTools
        from retinue.graphs.chat import build_chat_graph
        from retinue.memory.embeddings import DIMENSIONS, MiniLMEmbeddings
        from retinue.memory.faiss_store import FaissStore
        from retinue.paths import retinue_home

        folder = retinue_home() / "chat"
        folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(folder / "sessions.sqlite", check_same_thread=False)
        store = FaissStore(
            folder / "store", index={"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]}
        )
        graph = build_chat_graph().compile(checkpointer=SqliteSaver(conn), store=store)
        return cls(graph, conn, store, ChatTools(load_effiqa=lambda: _load_effiqa(kg, explorer, data_dir)), llm_config)

    def __enter__(self) -> "ChatSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()
        self.conn.close()

    # ---- one session -------------------------------------------------------------------------

    def context(self, session: str) -> Any:
        from retinue.agents.chat import ChatContext

        return ChatContext(
            llm=self.llm, usage=self.usage, llm_config=self.llm_config, session=session, tools=self.tools
        )

    def values(self, session: str) -> dict[str, Any]:
        return dict(self.graph.get_state({"configurable": {"thread_id": session}}).values)

    def turn(self, session: str, team: str, text: str) -> Iterator[tuple[str, Any]]:
        """Stream one turn: ("token", (agent, text)), ("step", {agent, text}) and ("message", (agent, text))."""
        from langchain_core.messages import AIMessageChunk, HumanMessage

        config = {"configurable": {"thread_id": session}}
        streamed: set[str] = set()
        parts = self.graph.stream(
            {"messages": [HumanMessage(text)], "team": team},
            config,
            context=self.context(session),
            stream_mode=["messages", "custom", "updates"],
        )
        for mode, chunk in parts:
            if mode == "messages":
                message, metadata = chunk
                agent = metadata.get("langgraph_node", "")
                # Chunks only: the node's finished message comes through this stream too, whole.
                if agent == "assistant" and isinstance(message, AIMessageChunk) and message.content:
                    streamed.add(agent)
                    yield "token", (agent, str(message.content))
            elif mode == "custom" and isinstance(chunk, dict) and "step" in chunk:
                yield "step", chunk["step"]
            elif mode == "updates":
                for agent, update in chunk.items():
                    for message in (update or {}).get("messages", []):
                        if agent not in streamed:
                            yield "message", (agent, str(message.content))

    # ---- the terminal ------------------------------------------------------------------------

    def run(self, session: str, team: str) -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        state = self.values(session)
        if state.get("messages"):
            team = state.get("team", team)
            err.print(f"session {session} (team {team}), {len(state['messages'])} messages so far:", highlight=False)
            for message in state["messages"][-10:]:
                out.print(f"{_speaker(message)}> {message.content}", markup=False, highlight=False)
        else:
            err.print(f"new session {session} with team {team}; /help lists the commands", highlight=False)
        while True:
            try:
                line = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                out.print()
                break
            if not line:
                continue
            if line.startswith("/"):
                outcome = self.command(line, session, team)
                if outcome is None:
                    break
                session, team = outcome
                continue
            self.show_turn(session, team, line)
        err.print(f"session kept: retinue chat --session {session}", markup=False, highlight=False)

    def show_turn(self, session: str, team: str, line: str) -> None:
        speaking = None
        try:
            for kind, payload in self.turn(session, team, line):
                if kind == "token":
                    agent, text = payload
                    if speaking != agent:
                        out.print(f"{agent}> ", end="", markup=False, highlight=False)
                        speaking = agent
                    out.print(text, end="", markup=False, highlight=False)
                elif kind == "step":
                    err.print(f"  [dim]· {escape(payload['agent'])}: {escape(payload['text'])}[/dim]")
                else:
                    agent, text = payload
                    out.print(f"{agent}> {text}", markup=False, highlight=False)
            if speaking:
                out.print()
        except RetinueError as error:
            if speaking:
                out.print()
            err.print(f"[red]error:[/red] {escape(str(error))}")

    def command(self, line: str, session: str, team: str) -> tuple[str, str] | None:
        """Run a slash command; the (session, team) to go on with, or None to leave."""
        from retinue.agents.chat import TEAMS

        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/quit", "/exit"):
            return None
        if name == "/team":
            if not argument:
                out.print(f"team: {team}")
            elif argument not in TEAMS:
                err.print(f"no team {argument!r}; teams: {', '.join(TEAMS)}", markup=False, highlight=False)
            else:
                out.print(f"team: {argument}")
                return session, argument
        elif name == "/reset":
            session = new_session_id()
            out.print(f"new session {session} with team {team}")
        elif name == "/sessions":
            for thread, preview in self.sessions():
                out.print(f"{thread}  {preview}", markup=False, highlight=False)
        elif name == "/memory":
            self.show_memory(session)
        elif name == "/save":
            path = Path(argument) if argument else Path(f"chat-{session}.md")
            path.write_text(self.transcript(session), encoding="utf-8")
            out.print(f"saved {path}")
        else:
            if name != "/help":
                err.print(f"unknown command {name}", markup=False, highlight=False)
            out.print(HELP, markup=False, highlight=False)
        return session, team

    def sessions(self) -> list[tuple[str, str]]:
        threads = [row[0] for row in self.conn.execute("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id")]
        listed = []
        for thread in threads:
            messages = self.values(thread).get("messages", [])
            first = next((str(m.content) for m in messages if m.type == "human"), "")
            listed.append((thread, f"{len(messages)} messages: {first[:60]}"))
        return listed

    def show_memory(self, session: str) -> None:
        from retinue.agents.chat.state import SHARED_MEMORY, session_memory

        for title, namespace in (("this session", session_memory(session)), ("shared", SHARED_MEMORY)):
            items = self.store.search(namespace, limit=50)
            out.print(f"{title}: {len(items)} item(s)")
            for item in items:
                out.print(f"  - {item.value.get('text', '')}", markup=False, highlight=False)

    def transcript(self, session: str) -> str:
        state = self.values(session)
        lines = [f"# chat session {session} (team {state.get('team', '?')})", ""]
        for message in state.get("messages", []):
            lines += [f"**{_speaker(message)}**: {message.content}", ""]
        return "\n".join(lines)


def _speaker(message: Any) -> str:
    return "you" if message.type == "human" else (getattr(message, "name", None) or "assistant")


def _load_effiqa(kg: Path | None, explorer: Path | None, data_dir: Path | None) -> tuple[Any, Any, Any]:
    from retinue.cli.effiqa import explorer_folder
    from retinue.graphs.effiqa import build_effiqa_graph
    from retinue.paths import data_root
    from retinue.tools.kg_explorer import PathExplorer
    from retinue.tools.knowledge_graph import KnowledgeGraph
    from retinue.training.kg_explorer import ExplorerModel

    folder = explorer_folder(explorer)
    err.print("[dim]loading the knowledge graph and the plug-in explorer...[/dim]")
    graph = KnowledgeGraph.load(kg or data_root(data_dir) / "metaqa" / "kb.txt")
    return build_effiqa_graph().compile(), graph, PathExplorer(graph, ExplorerModel.load(folder))
