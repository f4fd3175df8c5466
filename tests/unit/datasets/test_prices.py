"""Price sources: the yfinance source caches what it downloads and fails clearly (vendor faked: no network)."""

import sys
import types
from datetime import date
from pathlib import Path

import pytest

from retinue.datasets.prices import load_prices
from retinue.errors import RetinueError


class _History:
    """The slice of a pandas DataFrame that the source reads."""

    def __init__(self, rows: list[tuple[str, float]]) -> None:
        self.rows = rows
        self.columns = ["Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends"]

    def __len__(self) -> int:
        return len(self.rows)

    def iterrows(self):  # type: ignore[no-untyped-def]
        for day, close in self.rows:
            stamp = types.SimpleNamespace(date=lambda day=day: date.fromisoformat(day))
            yield stamp, {"Open": close, "High": close, "Low": close, "Close": close, "Adj Close": close, "Volume": 1}


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    fetched: list[str] = []
    data = {"ACME": [("2023-01-03", 10.0), ("2023-01-04", 11.0)], "EMPTY": []}

    class Ticker:
        def __init__(self, name: str) -> None:
            self.name = name

        def history(self, **kwargs: object) -> _History:
            fetched.append(self.name)
            if self.name == "DOWN":
                raise ConnectionError("name resolution failed")
            return _History(data[self.name])

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(Ticker=Ticker))
    monkeypatch.setenv("RETINUE_HOME", str(tmp_path / "home"))
    return fetched


def test_yfinance_downloads_once_then_reads_the_cache(vendor: list[str], tmp_path: Path) -> None:
    first = load_prices(tmp_path, ["ACME"], source="yfinance")["ACME"]
    again = load_prices(tmp_path, ["ACME"], source="yfinance")["ACME"]
    assert vendor == ["ACME"]  # the second load is offline
    assert first.dates == again.dates == (date(2023, 1, 3), date(2023, 1, 4))
    assert list(again.close) == [10.0, 11.0]
    assert (tmp_path / "home" / "prices" / "ACME.csv").read_text().startswith("Date,Open,High,Low,Close")


def test_auto_prefers_the_local_file(vendor: list[str], tmp_path: Path) -> None:
    (tmp_path / "market" / "prices").mkdir(parents=True)
    (tmp_path / "market" / "prices" / "ACME.csv").write_text("Date,Close\n2023-01-03,5\n")
    assert list(load_prices(tmp_path, ["ACME"], source="auto")["ACME"].close) == [5.0]
    assert vendor == []


@pytest.mark.parametrize(
    "ticker, message", [("EMPTY", "no daily prices for 'EMPTY'"), ("DOWN", "could not fetch DOWN .*offline")]
)
def test_yfinance_failures_are_clear_and_leave_no_cache(
    vendor: list[str], tmp_path: Path, ticker: str, message: str
) -> None:
    with pytest.raises(RetinueError, match=message):
        load_prices(tmp_path, [ticker], source="yfinance")
    assert not (tmp_path / "home" / "prices" / f"{ticker}.csv").exists()


def test_without_yfinance_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import fails
    monkeypatch.setenv("RETINUE_HOME", str(tmp_path))
    with pytest.raises(RetinueError, match=r"pip install 'retinue\[online\]'"):
        load_prices(tmp_path, ["ACME"], source="yfinance")
