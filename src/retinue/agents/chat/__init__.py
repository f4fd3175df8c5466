"""Chat sessions with agent teams: plain assistant, EffiQA over the knowledge graph, FinCon on a day, and
Introspective Tips playing a TextWorld game with the person."""

from retinue.agents.chat.assistant import assistant
from retinue.agents.chat.effiqa_team import effiqa
from retinue.agents.chat.fincon_team import fincon
from retinue.agents.chat.state import TEAMS, ChatContext, ChatState, TeamResources
from retinue.agents.chat.tips_team import tips

__all__ = ["TEAMS", "ChatContext", "ChatState", "TeamResources", "assistant", "effiqa", "fincon", "tips"]
