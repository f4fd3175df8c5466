import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from retinue.datasets.market_text import TextArchive, read_news
from retinue.errors import RetinueError
from retinue.paths import data_root

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "market"


def _write_news(path: Path, records: list[object]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")


def test_items_are_visible_only_from_the_day_after_their_date(tmp_path: Path) -> None:
    (tmp_path / "market").mkdir()
    _write_news(
        tmp_path / "market" / "news.jsonl.gz",
        [
            {"date": "2023-01-03", "ticker": "X", "headline": "old"},
            {"date": "2023-01-04", "ticker": "X", "summary": "same day"},
            {"date": "2023-01-05", "ticker": "X", "headline": "future"},
            {"date": "2023-01-03", "ticker": "Y", "headline": "other ticker"},
        ],
    )
    (tmp_path / "market" / "filings.jsonl").write_text(
        json.dumps({"date": "2023-01-02", "ticker": "X", "form": "10-Q", "text": "quarterly"}) + "\n"
    )
    archive = TextArchive.load(tmp_path, ["X", "NIO"])
    assert [i.text for i in archive.visible("X", date(2023, 1, 4))] == ["quarterly", "old"]
    assert [i.kind for i in archive.visible("X", date(2023, 1, 6), kinds=("10-Q",))] == ["10-Q"]
    assert archive.visible("NIO", date(2023, 1, 6)) == []  # no text is normal
    assert archive.count("Y") == 0  # not asked for


def test_malformed_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl.gz"
    _write_news(path, [{"date": "2023-01-03", "ticker": "X", "headline": "ok"}, "{broken"])
    with pytest.raises(RetinueError, match="line 2"):
        read_news(path, {"X"})
    _write_news(path, [{"date": "January", "ticker": "X", "headline": "x"}])
    with pytest.raises(RetinueError, match="bad 'date'"):
        read_news(path, {"X"})
    with pytest.raises(RetinueError, match="not found"):
        read_news(tmp_path / "missing.jsonl.gz", {"X"})


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared market data is not beside the repository")
def test_shared_archive_counts() -> None:
    archive = TextArchive.load(data_root(), ["AMZN", "MSFT", "NFLX"])
    assert archive.count("AMZN") == 475
    assert archive.visible("NFLX", date(2024, 1, 1), kinds=("news",)) == []  # NFLX has filings, no news
    assert archive.count("MSFT") > 4926  # news plus 10-K/10-Q text
    before = archive.visible("MSFT", date(2022, 10, 5))
    assert before and all(item.day < date(2022, 10, 5) for item in before)
