import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from retinue.datasets.market_text import EARNINGS_CALL, TextArchive, read_news, transcript_release_bound
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
    assert read_news(tmp_path / "missing.jsonl.gz", {"X"}) == []  # no such text: normal


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared market data is not beside the repository")
def test_shared_archive_counts() -> None:
    archive = TextArchive.load(data_root(), ["AMZN", "MSFT", "NFLX"])
    assert len(archive.visible("AMZN", date(2030, 1, 1), kinds=("news",))) == 475
    assert len(archive.visible("AMZN", date(2030, 1, 1), kinds=(EARNINGS_CALL,))) == 12  # 4 quarters twice
    assert archive.visible("NFLX", date(2024, 1, 1), kinds=("news",)) == []  # NFLX has filings, no news
    assert archive.count("MSFT") > 4926  # news plus 10-K/10-Q text
    before = archive.visible("MSFT", date(2022, 10, 5))
    assert before and all(item.day < date(2022, 10, 5) for item in before)


# Release days stated in the documents themselves (and, for the first two, in the companies' IR calendars).
KNOWN_RELEASES = [
    ("AAPL", "2021_Q4", "earnings_call_transcript", date(2021, 10, 28)),
    ("MSFT", "2022_Q1", "earnings_call_transcript", date(2021, 10, 26)),
    ("AMZN", "2021_Q4", "earnings_call_transcript", date(2022, 2, 3)),
    ("AMZN", "2022_Q4", "earnings_call_transcript", date(2023, 2, 2)),
    ("AMZN", "2023_Q1", "8-K_EX-99.1_press_release_or_letter", date(2023, 2, 2)),
    ("AMZN", "2023_Q2", "8-K_EX-99.1_press_release_or_letter", date(2023, 4, 27)),
    ("GOOGL", "2023_Q1", "8-K_EX-99.1_press_release_or_letter", date(2023, 2, 2)),
    ("GOOGL", "2023_Q2", "earnings_call_transcript", date(2023, 7, 25)),
    ("MSFT", "2023_Q3", "8-K_EX-99.1_press_release_or_letter", date(2023, 7, 25)),
    ("TSLA", "2023_Q3", "earnings_call_transcript", date(2023, 10, 18)),
]


@pytest.mark.parametrize("ticker, label, doc_type, released", KNOWN_RELEASES)
def test_a_transcript_is_never_visible_before_it_was_public(
    ticker: str, label: str, doc_type: str, released: date
) -> None:
    bound = transcript_release_bound(ticker, label, doc_type)
    assert released <= bound <= released + timedelta(days=45)


def test_a_bad_transcript_label_is_named(tmp_path: Path) -> None:
    (tmp_path / "market").mkdir()
    (tmp_path / "market" / "news.jsonl.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "market" / "filings.jsonl").write_text("")
    record = {"ticker": "AAPL", "label": "Q4 2021", "doc_type": "earnings_call_transcript", "text": "hello"}
    (tmp_path / "market" / "transcripts.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(RetinueError, match=r"transcripts.jsonl, line 1: label 'Q4 2021' is not YEAR_QN"):
        TextArchive.load(tmp_path, ["AAPL"])
