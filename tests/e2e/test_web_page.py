"""The chat page in real headless Chromium (Debian's package, driven by Playwright): start a session,
send a message, watch the streamed reply and its agent steps, reload and see the history.

Set RETINUE_SCREENSHOTS=DIR to keep the screenshots (the README's come from here)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.real_parts import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")]


def _serve(script: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "retinue.cli", "serve", "--port", str(port), "--llm", "scripted"]
    server = subprocess.Popen([*command, "--script", str(script), "--no-cache", *extra], text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/teams", params={"token": extra[-1]} if extra else None)
            return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError("the server did not start")


@pytest.fixture
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 640})
        # A team's first reply loads real parts in the server (MiniLM for the session's memory, a TextWorld game):
        # on a busy 2-core machine that took longer than Playwright's 30 s default.
        page.set_default_timeout(120_000)
        yield page
        browser.close()


def _shoot(page: object, path: Path) -> None:
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    if os.environ.get("RETINUE_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["RETINUE_SCREENSHOTS"]) / path.name)


def test_a_conversation_in_the_browser_survives_a_reload(page: object, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    replies = ["Hello Ada! How can I help you today?", "That renders as text."]
    script.write_text(json.dumps({"responses": replies}))
    port = free_port()
    server = _serve(script, port)
    try:
        page.goto(f"http://127.0.0.1:{port}/")  # type: ignore[attr-defined]
        page.fill("#text", "Hi, I am Ada.")  # type: ignore[attr-defined]
        page.click("#send")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Hello Ada! How can I help you today?")  # type: ignore[attr-defined]
        page.fill("#text", '<img src=x onerror="window.injected=1"><script>window.injected=2</script>')  # type: ignore[attr-defined]
        page.click("#send")  # type: ignore[attr-defined]
        page.wait_for_selector("text=That renders as text.")  # type: ignore[attr-defined]
        assert page.evaluate("window.injected") is None  # type: ignore[attr-defined]
        assert page.locator(".turn.you .text").last.inner_text().startswith("<img src=x")  # type: ignore[attr-defined]
        assert page.locator("img").count() == 0  # type: ignore[attr-defined]
        _shoot(page, tmp_path / "chat-page.png")
        page.reload()  # type: ignore[attr-defined]
        page.wait_for_selector("text=Hello Ada! How can I help you today?")  # type: ignore[attr-defined]
        texts = page.locator(".turn .text").all_inner_texts()  # type: ignore[attr-defined]
        assert texts[0] == "Hi, I am Ada." and texts[1] == replies[0] and len(texts) == 4
        page.wait_for_selector("#sessions >> text=Hi, I am Ada.")  # type: ignore[attr-defined]  (listed)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_team_picked_while_the_page_opens_its_session_is_kept(page: object, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": []}))
    port = free_port()
    server = _serve(script, port)

    def slow_session(route: object) -> None:  # the session opens after the person has picked a team
        time.sleep(2)
        route.continue_()  # type: ignore[attr-defined]

    try:
        page.route("**/api/sessions/*", slow_session)  # type: ignore[attr-defined]
        page.goto(f"http://127.0.0.1:{port}/")  # type: ignore[attr-defined]
        page.select_option("#team", "tips")  # type: ignore[attr-defined]
        page.fill("#text", "tips")  # type: ignore[attr-defined]
        page.click("#send")  # type: ignore[attr-defined]
        page.wait_for_selector("text=No tips yet")  # type: ignore[attr-defined]
        assert page.input_value("#team") == "tips"  # type: ignore[attr-defined]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_beyond_loopback_the_page_needs_its_token(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": []}))
    refused = subprocess.run(
        [sys.executable, "-m", "retinue.cli", "serve", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "give --token" in refused.stderr and "Traceback" not in refused.stderr
    port = free_port()
    server = _serve(script, port, "--token", "s3cret")
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/", params={"token": "s3cret"}).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_port_in_use_is_refused_before_anything_loads(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        serve = [sys.executable, "-m", "retinue.cli", "serve", "--port", str(port)]
        done = subprocess.run(serve, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"--port: cannot listen on 127.0.0.1:{port} (Address already in use)" in done.stderr
    assert "chat page:" not in done.stderr


def test_the_tips_team_plays_a_game_on_the_page(page: object, tmp_path: Path, tw_suite: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [{"why": "It holds the recipe."}, "examine cookbook"]}))
    port = free_port()
    server = _serve(script, port, "--games", str(tw_suite))
    try:
        page.goto(f"http://127.0.0.1:{port}/")  # type: ignore[attr-defined]
        page.select_option("#team", "tips")  # type: ignore[attr-defined]
        for text, shown in (
            ("new game L1-train-000", "Game L1-train-000 (level 1, 4 points to score)."),
            ("hint", "I would type: examine cookbook"),
            ("examine cookbook", "You open the copy"),
        ):
            page.fill("#text", text)  # type: ignore[attr-defined]
            page.click("#send")  # type: ignore[attr-defined]
            page.wait_for_selector(f"text={shown}")  # type: ignore[attr-defined]
        _shoot(page, tmp_path / "chat-tips.png")
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.skipif(not (SHARED / "market").is_dir(), reason="the shared market data is not there")
def test_a_backtest_equity_curve_shows_inline_and_after_a_reload(page: object, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": []}))
    port = free_port()
    server = _serve(script, port)
    try:
        page.goto(f"http://127.0.0.1:{port}/")  # type: ignore[attr-defined]
        page.select_option("#team", "fincon")  # type: ignore[attr-defined]
        page.fill("#text", "backtest TSLA from 2023-01-03 to 2023-03-31 with momentum")  # type: ignore[attr-defined]
        page.click("#send")  # type: ignore[attr-defined]
        page.wait_for_selector("text=momentum on TSLA")  # type: ignore[attr-defined]
        page.wait_for_function(
            "document.querySelector('img.picture') && document.querySelector('img.picture').naturalWidth > 0"
        )  # type: ignore[attr-defined]
        _shoot(page, tmp_path / "chat-backtest.png")
        page.reload()  # type: ignore[attr-defined]
        page.wait_for_function(
            "document.querySelector('img.picture') && document.querySelector('img.picture').naturalWidth > 0"
        )  # type: ignore[attr-defined]
    finally:
        server.terminate()
        server.wait(timeout=30)
