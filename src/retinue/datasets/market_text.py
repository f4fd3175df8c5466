"""Dated market text (news, 10-K/10-Q filings) for the analysts, served point in time.

Vendor timestamps carry no timezone, so an item dated d is first usable on the trading day after d:
`TextArchive.visible(ticker, day)` returns only items dated strictly before `day`. Tickers with no text
(NIO, NFLX, COIN in the shared data) are normal and give empty lists. Earnings-call transcripts are not
served yet: the files label them by fiscal quarter, not by the date they became public.
"""

import bisect
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError

NEWS_FILE = "news.jsonl.gz"
FILINGS_FILE = "filings.jsonl"


@dataclass(frozen=True)
class TextItem:
    """One dated piece of text about one ticker."""

    day: date
    ticker: str
    kind: str  # "news", "10-K", "10-Q"
    text: str
    source: str = ""


def _records(path: Path, tickers: set[str]) -> Iterator[tuple[date, str, dict[str, Any]]]:
    """(date, ticker, record) for each line about one of `tickers`; a bad line names its number."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            lines = list(handle)
    except FileNotFoundError:
        raise RetinueError(f"market text file not found: {path}") from None
    except (OSError, EOFError) as error:
        raise RetinueError(f"cannot read {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            raise RetinueError(f"{path}, line {number}: {error}") from None
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
        return cls(read_news(folder / NEWS_FILE, wanted) + read_filings(folder / FILINGS_FILE, wanted))

    def visible(self, ticker: str, day: date, kinds: tuple[str, ...] | None = None) -> list[TextItem]:
        """Items about `ticker` dated strictly before `day`, oldest first."""
        items = self._by_ticker.get(ticker, [])
        cut = bisect.bisect_left(self._days.get(ticker, []), day)
        return [i for i in items[:cut] if kinds is None or i.kind in kinds]

    def count(self, ticker: str) -> int:
        return len(self._by_ticker.get(ticker, []))
