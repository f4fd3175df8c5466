"""State, decisions and context of FinCon's per-day team."""

import operator
from dataclasses import dataclass, field
from typing import Annotated, NotRequired, TypedDict

from langgraph.store.base import BaseStore

from retinue.datasets.market_text import TextArchive
from retinue.envs.market import MarketEnv
from retinue.runs.context import RunContext
from retinue.tools.local_models import SentimentTool

SIGNALS = ("positive", "negative", "neutral")
ACTIONS = ("BUY", "SELL", "HOLD")  # a long position, a short one, none
ROLES = ("data", "news", "filings", "earnings_call")
# The aspects investment beliefs are about: one per analyst, and the manager's trading itself.
ASPECTS = (*ROLES, "manager")


class AnalystTask(TypedDict):
    """What one analyst is sent: which day and ticker to digest."""

    index: int
    ticker: str
    role: str


class AnalystReport(TypedDict):
    role: str
    ticker: str
    signal: str  # positive | negative | neutral | none (nothing to read)
    text: str
    fallback: bool  # the model gave no valid report and the safe default was used
    memory: NotRequired[str]  # the analyst's memory owner, as `memory.owner_label` writes it
    recalled: NotRequired[list[str]]  # keys of the memories the report was read from


class FinconDayState(TypedDict):
    index: int
    tickers: list[str]
    previous: dict[str, float]
    risk_alert: str | None
    reports: Annotated[list[AnalystReport], operator.add]
    decisions: dict[str, dict[str, object]]
    manager_recalled: list[str]  # keys of the manager's episodes recalled today


@dataclass(frozen=True)
class FinconContext(RunContext):
    """The run context plus the market, its text, the store the agents remember in and the team's
    current investment beliefs by aspect (`ASPECTS`); each agent sees only the belief of its aspect."""

    env: MarketEnv | None = None
    archive: TextArchive | None = None
    store: BaseStore | None = None
    beliefs: dict[str, str] = field(default_factory=dict)
    sentiment: SentimentTool | None = None  # a trained sentiment student the news analyst consults
