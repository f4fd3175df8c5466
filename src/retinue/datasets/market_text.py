"""Dated market text (news, 10-K/10-Q filings) for the analysts, served point in time.

Vendor timestamps carry no timezone, so an item dated d is first usable on the trading day after d:
`TextArchive.visible(ticker, day)` returns only items dated strictly before `day`. Tickers with no text
(NIO, NFLX, COIN in the shared data) are normal and give empty lists; so is a data root without one of the
text files (news.jsonl.gz, filings.jsonl, transcripts.jsonl).

Earnings-call transcripts and results releases carry a quarter label, not a date, so each is dated by an
upper bound on when it became public (`transcript_release_bound`): a call is held after its fiscal quarter
ends, and the SEC's 40-day 10-Q deadline for large filers bounds it; a results release is labelled by the
calendar quarter it came out in, and it reports on the quarter before, so it is public by 40 days into its
label's quarter. Late is safe; early would be look-ahead. Alphabet's calls are filed under GOOGL; the
prices use GOOG, so transcripts are served under GOOG too.
"""

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError
from retinue.jsonfiles import read_jsonl

NEWS_FILE = "news.jsonl.gz"
FILINGS_FILE = "filings.jsonl"
TRANSCRIPTS_FILE = "transcripts.jsonl"
EARNINGS_CALL = "earnings_call"
RELEASE_LAG_DAYS = 40
# The month each company's fiscal year ends in; December when not listed.
FISCAL_YEAR_END_MONTH = {"AAPL": 9, "MSFT": 6}
TRANSCRIPT_TICKER_ALIASES = {"GOOGL": "GOOG"}
QUARTER_LABEL = re.compile(r"^(\d{4})_Q([1-4])$")


@dataclass(frozen=True)
class TextItem:
    """One dated piece of text about one ticker."""

    day: date
    ticker: str
    kind: str  # "news", "10-K", "10-Q"
    text: str
    source: str = ""


def _records(path: Path, tickers: set[str]) -> Iterator[tuple[date, str, dict[str, Any]]]:
    """(date, ticker, record) for each line about one of `tickers`."""
    for number, record in read_jsonl(path, "market text", missing_ok=True):
        ticker = str(record.get("ticker", ""))
        if ticker not in tickers:
            continue
        try:
            day = date.fromisoformat(str(record["date"]))
        except (KeyError, ValueError):
            raise RetinueError(f"{path}, line {number}: missing or bad 'date' ({record.get('date')!r})") from None
        yield day, ticker, record


def read_news(path: Path, tickers: set[str]) -> list[TextItem]:
    items = []
    for day, ticker, record in _records(path, tickers):
        text = " — ".join(str(record[k]) for k in ("headline", "summary") if record.get(k))
        if text:
            items.append(TextItem(day, ticker, "news", text, str(record.get("source", ""))))
    return items


def read_filings(path: Path, tickers: set[str]) -> list[TextItem]:
    return [
        TextItem(day, ticker, str(record.get("form", "filing")), str(record["text"]), "SEC")
        for day, ticker, record in _records(path, tickers)
        if record.get("text")
    ]


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def transcript_release_bound(ticker: str, label: str, doc_type: str) -> date:
    """The latest day a labelled call transcript or results release can have become public."""
    match = QUARTER_LABEL.match(label)
    if match is None:
        raise ValueError(f"label {label!r} is not YEAR_QN")
    year, quarter = int(match[1]), int(match[2])
    if doc_type != "earnings_call_transcript":  # a release, labelled by the calendar quarter it came out in
        return date(year, 3 * quarter - 2, 1) + timedelta(days=RELEASE_LAG_DAYS)
    # Fiscal quarter q of fiscal year y ends 3 * (4 - q) months before the fiscal year's last month.
    months = year * 12 + FISCAL_YEAR_END_MONTH.get(ticker, 12) - 1 - 3 * (4 - quarter)
    return _month_end(months // 12, months % 12 + 1) + timedelta(days=RELEASE_LAG_DAYS)


def read_transcripts(path: Path, tickers: set[str]) -> list[TextItem]:
    items = []
    for number, record in read_jsonl(path, "market text", missing_ok=True):
        raw = str(record.get("ticker", ""))
        ticker = TRANSCRIPT_TICKER_ALIASES.get(raw, raw)
        if ticker not in tickers or not record.get("text"):
            continue
        try:
            day = transcript_release_bound(raw, str(record.get("label")), str(record.get("doc_type")))
        except ValueError as error:
            raise RetinueError(f"{path}, line {number}: {error}") from None
        items.append(TextItem(day, ticker, EARNINGS_CALL, str(record["text"]), str(record.get("label"))))
    return items


class TextArchive:
    """All text for some tickers, sorted by date, answering "what could be known on this day"."""

    def __init__(self, items: list[TextItem]) -> None:
        self._by_ticker: dict[str, list[TextItem]] = {}
        for item in sorted(items, key=lambda i: (i.day, i.kind)):
            self._by_ticker.setdefault(item.ticker, []).append(item)
        self._days = {t: [i.day for i in found] for t, found in self._by_ticker.items()}

    @classmethod
    def load(cls, root: Path, tickers: list[str]) -> "TextArchive":
        folder = root / "market"
        wanted = set(tickers)
        return cls(
            read_news(folder / NEWS_FILE, wanted)
            + read_filings(folder / FILINGS_FILE, wanted)
            + read_transcripts(folder / TRANSCRIPTS_FILE, wanted)
        )

    def visible(self, ticker: str, day: date, kinds: tuple[str, ...] | None = None) -> list[TextItem]:
        """Items about `ticker` dated strictly before `day`, oldest first."""
        items = self._by_ticker.get(ticker, [])
        cut = bisect.bisect_left(self._days.get(ticker, []), day)
        return [i for i in items[:cut] if kinds is None or i.kind in kinds]

    def count(self, ticker: str) -> int:
        return len(self._by_ticker.get(ticker, []))


def labelled_news(root: Path, tickers: set[str], start: date, end: date) -> list[tuple[TextItem, str]]:
    """News about `tickers` dated in [start, end] that carries a human-readable sentiment label (the
    FinMem-format summaries: Positive, Neutral, Negative), as (item, label in lower case)."""
    found = []
    for day, ticker, record in _records(root / "market" / NEWS_FILE, tickers):
        label = str(record.get("sentiment_label") or "").lower()
        text = str(record.get("summary") or record.get("headline") or "")
        if start <= day <= end and label in ("positive", "neutral", "negative") and text:
            found.append((TextItem(day, ticker, "news", text, str(record.get("source", ""))), label))
    return found
