"""State, decisions and context of FinCon's per-day team."""

import operator
from dataclasses import dataclass, field
from typing import Annotated, Literal, NotRequired, TypedDict

from langgraph.store.base import BaseStore
from pydantic import BaseModel, Field

from retinue.datasets.market_text import TextArchive
from retinue.envs.market import MarketEnv
from retinue.runs.context import RunContext
from retinue.tools.local_models import SentimentTool

Signal = Literal["positive", "negative", "neutral"]
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


class SourceReading(BaseModel):
    """An analyst's reading of its source."""

    signal: Signal = Field(description="What the source means for the stock price.")
    key_point: str = Field(min_length=1, max_length=160, description="The one fact that matters most.")


class ManagerDecision(BaseModel):
    """The manager's decision for one ticker."""

    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)
    reasons: str = Field(min_length=1, max_length=200)


SAFE_READING = SourceReading(signal="neutral", key_point="no valid reading")
SAFE_DECISION = ManagerDecision(action="HOLD", confidence=0.0, reasons="fallback: no valid decision")


@dataclass(frozen=True)
class FinconContext(RunContext):
    """The run context plus the market, its text, the store the agents remember in and the team's
    current investment beliefs by aspect (`ASPECTS`); each agent sees only the belief of its aspect."""

    env: MarketEnv | None = None
    archive: TextArchive | None = None
    store: BaseStore | None = None
    beliefs: dict[str, str] = field(default_factory=dict)
    sentiment: SentimentTool | None = None  # a trained sentiment student the news analyst consults
