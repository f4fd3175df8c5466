"""`retinue chat` driven through a pseudo-terminal, as a person would: ask, read the reply, quit, reopen."""

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours: what a person sees is the text


class Terminal:
    """A process on a pseudo-terminal; `expect` reads until a text appears."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "retinue.cli", *args], stdin=slave, stdout=slave, stderr=slave, close_fds=True
        )
        os.close(slave)
        self.seen = ""
        self.cursor = 0

    def expect(self, text: str, timeout: float = 120) -> None:
        """Wait until `text` appears after what earlier expectations matched."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.cursor :]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} never appeared; the terminal showed:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.seen += ANSI.sub("", os.read(self.master, 4096).decode(errors="replace"))
                except OSError:  # the process closed the terminal
                    break
        assert text in self.seen[self.cursor :], f"{text!r} never appeared; the terminal showed:\n{self.seen}"
        self.cursor = self.seen.index(text, self.cursor) + len(text)

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


def test_a_conversation_in_the_terminal_continues_after_reopening(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": ["Hello Ada, nice to meet you.", "You told me: Ada."]}))
    options = ["chat", "--llm", "scripted", "--script", str(script), "--no-cache", "--session", "tea"]
    first = Terminal(*options)
    first.expect("you> ")
    first.send("my name is Ada")
    first.expect("assistant> Hello Ada, nice to meet you.")
    first.expect("you> ")
    first.send("/nonsense")
    first.expect("unknown command /nonsense")
    first.expect("/sessions")  # the help follows
    first.expect("you> ")
    first.send("/quit")
    first.expect("session kept: retinue chat --session tea")
    assert first.close() == 0

    script.write_text(json.dumps({"responses": ["You told me: Ada."]}))
    second = Terminal(*options)
    second.expect("session tea (team assistant), 2 messages so far")
    second.expect("you> my name is Ada")
    second.expect("assistant> Hello Ada, nice to meet you.")
    second.expect("you> ")
    second.send("what is my name?")
    second.expect("assistant> You told me: Ada.")
    second.expect("you> ")
    os.write(second.master, b"\x04")  # Ctrl-D leaves too
    second.expect("session kept")
    assert second.close() == 0
