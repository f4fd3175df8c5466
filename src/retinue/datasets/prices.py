"""Daily prices: a table of sources, so that a vendor can be swapped. Local CSV files are the default.

A source maps a ticker to a `PriceSeries`. `local` reads `<data root>/market/prices/<TICKER>.csv` in
Yahoo's layout (`Date,Open,High,Low,Close,Adj Close,Volume`). Errors name the file, line and field.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from retinue.errors import RetinueError

COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")


@dataclass(frozen=True)
class PriceSeries:
    """One ticker's trading days, oldest first, and their closing prices."""

    ticker: str
    dates: tuple[date, ...]
    close: np.ndarray

    def index_on_or_after(self, day: date) -> int:
        for i, d in enumerate(self.dates):
            if d >= day:
                return i
        return len(self.dates)

    def index_on_or_before(self, day: date) -> int:
        found = -1
        for i, d in enumerate(self.dates):
            if d > day:
                break
            found = i
        return found


def read_price_csv(path: Path, ticker: str) -> PriceSeries:
    """Parse one Yahoo-layout CSV; every malformed line is reported with its number."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise RetinueError(f"no price file for {ticker}: {path}") from None
    dates: list[date] = []
    closes: list[float] = []
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("Date", "Close") if c not in (reader.fieldnames or [])]
        if missing:
            raise RetinueError(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row["Date"])
                close = float(row["Close"])
            except (TypeError, ValueError):
                raise RetinueError(
                    f"{path}, line {line}: bad Date or Close ({row.get('Date')!r}, {row.get('Close')!r})"
                ) from None
            if not close > 0:
                raise RetinueError(f"{path}, line {line}: Close must be positive, got {close}")
            if dates and day <= dates[-1]:
                raise RetinueError(f"{path}, line {line}: dates must increase ({day} after {dates[-1]})")
            dates.append(day)
            closes.append(close)
    if not dates:
        raise RetinueError(f"{path} holds no prices")
    return PriceSeries(ticker, tuple(dates), np.asarray(closes, dtype=np.float64))


def local_prices(root: Path, ticker: str) -> PriceSeries:
    folder = root / "market" / "prices"
    path = folder / f"{ticker}.csv"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []
        raise RetinueError(f"unknown ticker {ticker!r}: no {path}; local prices exist for {', '.join(known) or 'none'}")
    return read_price_csv(path, ticker)


PRICE_SOURCES: dict[str, Callable[[Path, str], PriceSeries]] = {"local": local_prices}


def load_prices(root: Path, tickers: list[str], source: str = "local") -> dict[str, PriceSeries]:
    if source not in PRICE_SOURCES:
        raise RetinueError(f"unknown price source {source!r}; known: {', '.join(PRICE_SOURCES)}")
    return {ticker: PRICE_SOURCES[source](root, ticker) for ticker in tickers}
