"""`retinue chat`: a conversation with an agent team in the terminal, kept as a LangGraph thread.

Sessions live under RETINUE_HOME/chat (`scenarios/chat_sessions.py`, shared with `retinue serve`): closing the
terminal and reopening the session with `--session ID` continues exactly where it stopped. Replies
stream token by token; a team's intermediate steps are shown as they finish.
"""

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    ModelOptions,
    err,
    out,
    with_model_options,
)
from retinue.cli.effiqa import DataDirOption, ExplorerOption, KGOption
from retinue.cli.tips import GamesOption
from retinue.errors import RetinueError

FinconRunOption = Annotated[
    Path | None,
    typer.Option(help="The fincon team starts from this finished FinCon backtest's memory and beliefs."),
]

HELP = """commands:
  /help              this list
  /team [NAME]       show the team, or switch to NAME (assistant, effiqa, fincon, tips)
  /reset             start a new session with the same team
  /sessions          list the saved sessions (reopen one with: retinue chat --session ID)
  /memory            what this session remembers, and the shared memory
  /share TEXT        put TEXT in the shared memory, which every session can recall
  /save [FILE]       write the conversation to a Markdown file
  /quit              leave (the session is kept)"""


@with_model_options
def chat(
    team: Annotated[str, typer.Option(help="assistant | effiqa | fincon | tips.")] = "assistant",
    session: Annotated[str | None, typer.Option(help="Reopen this session (or start one with this id).")] = None,
    kg: KGOption = None,
    explorer: ExplorerOption = None,
    data_dir: DataDirOption = None,
    games: GamesOption = None,
    fincon_run: FinconRunOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Chat with an agent team. Type a message; /help lists the commands; Ctrl-D or /quit leaves."""
    from retinue.agents.chat import TEAMS
    from retinue.scenarios.chat import ChatScenario, open_sessions
    from retinue.scenarios.chat_sessions import new_session_id

    if team not in TEAMS:
        raise RetinueError(f"--team: {team!r} is not one of {', '.join(TEAMS)}")
    scenario = ChatScenario(
        llm=models.settings(default_model=False),
        kg=kg,
        explorer=explorer,
        data_dir=data_dir,
        games=games,
        fincon_run=fincon_run,
    )
    with open_sessions(scenario, console=err) as sessions:
        Terminal(sessions).run(session or new_session_id(), team)


class Terminal:
    """The REPL over chat sessions."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions

    def run(self, session: str, team: str) -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        state = self.sessions.values(session)
        if state.get("messages"):
            team = state.get("team", team)
            err.print(f"session {session} (team {team}), {len(state['messages'])} messages so far:", highlight=False)
            for line in self.sessions.history(session)[-10:]:
                out.print(f"{line['speaker']}> {line['text']}", markup=False, highlight=False)
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
            for kind, event in self.sessions.turn(session, team, line):
                if kind == "token":
                    if speaking != event["agent"]:
                        out.print(f"{event['agent']}> ", end="", markup=False, highlight=False)
                        speaking = event["agent"]
                    out.print(event["text"], end="", markup=False, highlight=False)
                elif kind == "step":
                    err.print(f"  [dim]· {escape(event['agent'])}: {escape(event['text'])}[/dim]", highlight=False)
                else:
                    out.print(f"{event['agent']}> {event['text']}", markup=False, highlight=False)
                    for name in event.get("pictures", []):
                        picture = self.sessions.picture(session, name)
                        out.print(f"  (picture: {picture})", markup=False, highlight=False)
            if speaking:
                out.print()
        except RetinueError as error:
            if speaking:
                out.print()
            err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)

    def command(self, line: str, session: str, team: str) -> tuple[str, str] | None:
        """Run a slash command; the (session, team) to go on with, or None to leave."""
        from retinue.agents.chat import TEAMS
        from retinue.scenarios.chat_sessions import new_session_id

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
            for listed in self.sessions.sessions():
                summary = f"{listed['id']}  {listed['team']}, {listed['messages']} messages: {listed['preview']}"
                out.print(summary, markup=False, highlight=False)
        elif name == "/memory":
            for title, items in self.sessions.memory(session).items():
                out.print(f"{'this session' if title == 'session' else title}: {len(items)} item(s)")
                for text in items:
                    out.print(f"  - {text}", markup=False, highlight=False)
        elif name == "/share":
            try:
                self.sessions.share(session, argument)
                out.print("shared")
            except RetinueError as error:
                err.print(f"{error}; usage: /share TEXT", markup=False, highlight=False)
        elif name == "/save":
            path = Path(argument) if argument else Path(f"chat-{session}.md")
            path.write_text(self.sessions.transcript(session), encoding="utf-8")
            out.print(f"saved {path}", markup=False, highlight=False)
        else:
            if name != "/help":
                err.print(f"unknown command {name}", markup=False, highlight=False)
            out.print(HELP, markup=False, highlight=False)
        return session, team
