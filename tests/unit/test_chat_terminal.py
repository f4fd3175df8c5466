"""The terminal REPL names the picture a team's reply carries (the page shows it inline)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retinue.cli.chat import Terminal


class PictureSessions:
    """Sessions whose every turn is one reply with a picture."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def turn(self, session: str, team: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "message", {"agent": "fincon", "text": "buy_and_hold on TSLA", "pictures": ["backtest-00001.png"]}

    def picture(self, session: str, name: str) -> Path:
        return self.folder / session / name


def test_a_reply_with_a_picture_names_its_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Terminal(PictureSessions(tmp_path)).show_turn("s", "fincon", "backtest TSLA")
    printed = capsys.readouterr().out
    assert "fincon> buy_and_hold on TSLA" in printed
    assert f"(picture: {tmp_path / 's' / 'backtest-00001.png'})" in printed
