"""Every namespace the agents keep in a store, in one table (a namespace is a tuple of strings).

| namespace | what it holds | written by |
|---|---|---|
| ("shared", "memory") | notes every chat session reads | chat: /share |
| ("chat", SESSION, "memory") | what one chat session remembers | chat teams |
| ("chat", SESSION, "tips") | the tips the tips team learned in one session | chat: tips team |
| ("fincon", "<role>_analyst", TICKER, LAYER) | a text analyst's layered memory of its source | FinCon |
| ("fincon", "manager", LAYER) | the manager's episodes: decisions and what they earned | FinCon |
| ("fincon", "day", DAY) | which memories each agent recalled that day; the decisions | FinCon |
| ("fincon", "beliefs") | the investment beliefs CVRF revises | FinCon: CVRF |
| ("fincon", "cvrf") | each CVRF step's record | FinCon: CVRF |
| (KIND, "game", GAME), (KIND, "level", LEVEL), (KIND, "global") | tips, reflections, trajectories | Tips |

Layered memories (`memory/layered.py`) add their layer ("short", "mid", "long") below their owner.
"""

from datetime import date

SHARED_MEMORY = ("shared", "memory")
FINCON_MANAGER = ("fincon", "manager")
FINCON_BELIEFS = ("fincon", "beliefs")
FINCON_CVRF = ("fincon", "cvrf")


def chat_session(session: str) -> tuple[str, ...]:
    """One chat session's memory; no other session reads it."""
    return ("chat", session, "memory")


def chat_tips(session: str) -> tuple[str, ...]:
    """The tips the tips team learned in one chat session."""
    return ("chat", session, "tips")


def fincon_analyst(role: str, ticker: str) -> tuple[str, ...]:
    """A FinCon text analyst's layered memory of one ticker's source."""
    return ("fincon", f"{role}_analyst", ticker)


def fincon_day(day: date) -> tuple[str, ...]:
    """What FinCon's agents recalled and decided on `day`."""
    return ("fincon", "day", day.isoformat())


def tips_game(kind: str, game: str) -> tuple[str, ...]:
    """Notes of `kind` (tips, reflections, trajectories) about one game."""
    return (kind, "game", game)


def tips_level(kind: str, level: int | None) -> tuple[str, ...]:
    """Notes of `kind` about the games of one level."""
    return (kind, "level", str(level))


def tips_global(kind: str) -> tuple[str, ...]:
    """Notes of `kind` about every game."""
    return (kind, "global")
