"""JSON Lines reading: plain or gzipped, blank lines skipped, a bad line named by its number; a JSON file
created once, whole."""

import gzip
import json
from pathlib import Path

import pytest

from retinue.errors import RetinueError
from retinue.jsonfiles import create_json_exclusive, read_jsonl


def test_plain_and_gzipped_lines_read_the_same(tmp_path: Path) -> None:
    text = '{"a": 1}\n\n{"a": 2}\n'
    (tmp_path / "x.jsonl").write_text(text)
    with gzip.open(tmp_path / "x.jsonl.gz", "wt") as handle:
        handle.write(text)
    expected = [(1, {"a": 1}), (3, {"a": 2})]
    assert list(read_jsonl(tmp_path / "x.jsonl", "--in")) == expected
    assert list(read_jsonl(tmp_path / "x.jsonl.gz", "--in")) == expected


def test_bad_lines_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(RetinueError, match="x.jsonl, line 2: not a JSON object"):
        list(read_jsonl(path, "--in"))
    path.write_text('{"a": 1\n')
    with pytest.raises(RetinueError, match="x.jsonl, line 1"):
        list(read_jsonl(path, "--in"))
    with pytest.raises(RetinueError, match="--in: file not found"):
        list(read_jsonl(tmp_path / "none.jsonl", "--in"))
    assert list(read_jsonl(tmp_path / "none.jsonl", "--in", missing_ok=True)) == []


def test_an_exclusive_create_is_whole_and_happens_once(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    create_json_exclusive(path, {"status": "running"})
    assert json.loads(path.read_text()) == {"status": "running"}
    with pytest.raises(FileExistsError):
        create_json_exclusive(path, {"status": "second"})
    assert json.loads(path.read_text()) == {"status": "running"}  # the first one's, untouched
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # nothing left aside
