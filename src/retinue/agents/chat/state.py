"""State and context of a chat session: the conversation, and which team answers the next turn."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph import MessagesState

from retinue.errors import RetinueError
from retinue.runs.context import RunContext

TEAMS = ("assistant", "effiqa", "fincon")
SHARED_MEMORY = ("shared", "memory")


class ChatState(MessagesState):
    team: str


def session_memory(session: str) -> tuple[str, ...]:
    """The store namespace of one session's memory; no other session reads it."""
    return ("chat", session, "memory")


@dataclass
class ChatTools:
    """What teams reach beyond the model, loaded by the front end's loaders when a team first needs it:
    EffiQA's compiled graph, knowledge graph and plug-in explorer; FinCon's day graph and data."""

    load_effiqa: Callable[[], tuple[Any, Any, Any]] | None = None
    load_fincon: Callable[[], tuple[Any, Any]] | None = None  # FinCon's compiled day graph and the data root
    _effiqa: tuple[Any, Any, Any] | None = field(default=None, init=False)
    _fincon: tuple[Any, Any] | None = field(default=None, init=False)

    def effiqa(self) -> tuple[Any, Any, Any]:
        if self._effiqa is None:
            if self.load_effiqa is None:
                raise RetinueError("the effiqa team is not available in this session")
            self._effiqa = self.load_effiqa()
        return self._effiqa

    def fincon(self) -> tuple[Any, Any]:
        if self._fincon is None:
            if self.load_fincon is None:
                raise RetinueError("the fincon team is not available in this session")
            self._fincon = self.load_fincon()
        return self._fincon


@dataclass(frozen=True)
class ChatContext(RunContext):
    """The run context plus the session id and the teams' tools."""

    session: str = "default"
    tools: ChatTools = field(default_factory=ChatTools)
