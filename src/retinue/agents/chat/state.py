"""State and context of a chat session: the conversation, and which team answers the next turn."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired

from langgraph.graph import MessagesState

from retinue.errors import RetinueError
from retinue.runs.context import RunContext

if TYPE_CHECKING:
    from retinue.agents.chat.fincon_tools import FinconTools

TEAMS = ("assistant", "effiqa", "fincon", "tips")


class ChatState(MessagesState):
    team: str
    game: NotRequired[dict[str, Any] | None]  # the tips team's game in progress: its id and steps


@dataclass
class TeamResources:
    """What teams reach beyond the model, loaded by the front end's loaders when a team first needs it:
    EffiQA's compiled graph, knowledge graph and plug-in explorer; FinCon's day graph and data; the tips
    team's games. Sessions
    may run at once: a loader runs once, the others wait for it."""

    load_effiqa: Callable[[], tuple[Any, Any, Any]] | None = None
    load_fincon: Callable[[], "FinconTools"] | None = None
    load_tips: Callable[[], tuple[Any, Any]] | None = None  # the games folder and its games by id
    _loaded: dict[str, Any] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def effiqa(self) -> tuple[Any, Any, Any]:
        return self._load("effiqa", self.load_effiqa)  # type: ignore[no-any-return]

    def fincon(self) -> "FinconTools":
        return self._load("fincon", self.load_fincon)  # type: ignore[no-any-return]

    def tips(self) -> tuple[Any, Any]:
        return self._load("tips", self.load_tips)  # type: ignore[no-any-return]

    def prepare(self, team: str) -> None:
        """Load what `team` needs before its turn starts (the assistant needs nothing)."""
        loaders = {"effiqa": self.effiqa, "fincon": self.fincon, "tips": self.tips}
        if team in loaders:
            loaders[team]()

    def _load(self, team: str, loader: Callable[[], Any] | None) -> Any:
        with self._lock:
            if team not in self._loaded:
                if loader is None:
                    raise RetinueError(f"the {team} team is not available in this session")
                self._loaded[team] = loader()
            return self._loaded[team]


@dataclass(frozen=True)
class ChatContext(RunContext):
    """The run context plus the session id, the teams' tools and the folder for the session's pictures."""

    session: str = "default"
    tools: TeamResources = field(default_factory=TeamResources)
    pictures: Path | None = None
