"""Daily prices: a table of sources, so that a vendor can be swapped. Local CSV files are the default.

A source maps a ticker to a `PriceSeries`. `local` reads `<data root>/market/prices/<TICKER>.csv` in
Yahoo's layout (`Date,Open,High,Low,Close,Adj Close,Volume`). `yfinance` (online, optional: `pip install
'retinue[online]'`) downloads a ticker's daily history once and caches it in the same layout under
`$RETINUE_HOME/prices/`, so later runs are offline; delete the file to refresh it. `auto` uses the local
file when there is one, else yfinance. Errors name the file, line and field.
"""

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from retinue.errors import RetinueError

# A ticker symbol as exchanges and Yahoo Finance write them (TSLA, BRK-B, ^GSPC, BTC-USD, 7203.T); it names
# a file, so nothing else (no path separators, no dots first) gets through.
TICKER = re.compile(r"[A-Z0-9^][A-Z0-9.=^-]{0,14}")
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


def _download_yahoo(ticker: str, path: Path) -> None:
    try:
        import yfinance
    except ImportError:
        raise RetinueError(
            f"no local prices for {ticker} and yfinance is not installed: pip install 'retinue[online]'"
        ) from None
    try:
        history = yfinance.Ticker(ticker).history(period="max", interval="1d", auto_adjust=False)
    except Exception as error:  # the vendor raises many kinds; all mean "could not fetch"
        raise RetinueError(f"could not fetch {ticker} from Yahoo Finance (offline?): {error}") from None
    if history is None or len(history) == 0:
        raise RetinueError(f"Yahoo Finance has no daily prices for {ticker!r}")
    missing = [c for c in COLUMNS[1:] if c not in history.columns]
    if missing:
        raise RetinueError(f"Yahoo Finance's reply for {ticker} lacks column(s) {', '.join(missing)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for stamp, row in history.iterrows():
            writer.writerow([stamp.date().isoformat(), *(row[c] for c in COLUMNS[1:])])
    partial.replace(path)  # a cached file is always whole


def yfinance_prices(root: Path, ticker: str) -> PriceSeries:
    from retinue.paths import retinue_home

    path = retinue_home() / "prices" / f"{ticker}.csv"
    if not path.exists():
        _download_yahoo(ticker, path)
    return read_price_csv(path, ticker)


def auto_prices(root: Path, ticker: str) -> PriceSeries:
    local = root / "market" / "prices" / f"{ticker}.csv"
    return local_prices(root, ticker) if local.exists() else yfinance_prices(root, ticker)


PRICE_SOURCES: dict[str, Callable[[Path, str], PriceSeries]] = {
    "local": local_prices,
    "yfinance": yfinance_prices,
    "auto": auto_prices,
}


def check_ticker(ticker: str) -> str:
    """`ticker` if it is a ticker symbol (upper case), else a clear error."""
    if not TICKER.fullmatch(ticker):
        raise RetinueError(f"{ticker!r} is not a ticker symbol (letters, digits and . - ^ =, e.g. TSLA or BRK-B)")
    return ticker


def load_prices(root: Path, tickers: list[str], source: str = "local") -> dict[str, PriceSeries]:
    for ticker in tickers:
        check_ticker(ticker)
    if source not in PRICE_SOURCES:
        raise RetinueError(f"unknown price source {source!r}; known: {', '.join(PRICE_SOURCES)}")
    return {ticker: PRICE_SOURCES[source](root, ticker) for ticker in tickers}
