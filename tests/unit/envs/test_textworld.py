"""What the TextWorld adapter does without a game: clean observations and refuse bad files clearly."""

from pathlib import Path

import pytest

from retinue.envs.textworld import check_game_file, clean_text
from retinue.envs.textworld_suite import MAX_SEED, check_request, game_seed, load_games, parse_levels
from retinue.errors import RetinueError

BANNER = """


                    ________  ________  __    __  ________
                   |        \\|        \\|  \\  |  \\|        \\
                    \\$$$$$$$$| $$$$$$$$| $$  | $$ \\$$$$$$$$
                      | $$   | $$__     \\$$\\/  $$   | $$

-= Kitchen =-
You are hungry!

>                                                                -= Kitchen =-0/4"""


def test_clean_text_drops_the_banner_the_prompt_and_the_status_bar() -> None:
    assert clean_text(BANNER) == "-= Kitchen =-\nYou are hungry!"
    assert clean_text("You take the knife.\n\n>") == "You take the knife."


def test_levels_are_checked_and_seeds_differ_per_game() -> None:
    assert parse_levels("1, 3,3") == [1, 3]
    with pytest.raises(RetinueError, match="^--levels: '6' is not a level"):
        parse_levels("1,6")
    with pytest.raises(RetinueError, match="^--cross-levels: 'x' is not a level"):
        parse_levels("x", "--cross-levels")
    assert len({game_seed(0, level, i) for level in range(1, 6) for i in range(100)}) == 500


def test_bad_game_files_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="no such game file"):
        check_game_file(tmp_path / "missing.z8")
    story = tmp_path / "game.z8"
    story.write_bytes(bytes([8]) + bytes(63))
    with pytest.raises(RetinueError, match=r"game\.json is missing"):
        check_game_file(story)
    story.with_suffix(".json").write_text("{}")
    with pytest.raises(RetinueError, match="not a complete Z-machine version 8 story file"):
        check_game_file(story)
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(RetinueError, match="expected a .z8 or .ulx file"):
        check_game_file(text)


def test_a_missing_suite_and_a_bad_request_are_named_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(RetinueError, match="no such games folder or game file"):
        load_games(tmp_path / "missing")
    with pytest.raises(RetinueError, match="--count must be between 1 and 1000, not 0"):
        check_request("train", 0, tmp_path)
    with pytest.raises(RetinueError, match="--split: 'dev' is not one of train, valid, test"):
        check_request("dev", 1, tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(RetinueError, match="is a file, not a folder for the games"):
        check_request("test", 1, tmp_path / "file")
    check_request("test", 1, tmp_path / "new")
    with pytest.raises(
        RetinueError, match=r"^--seed must be between 0 and 42949 \(the games' seeds are 32-bit\), not 770031"
    ):
        check_request("test", 1, tmp_path / "new", seed=770031)
    check_request("test", 1000, tmp_path / "new", seed=MAX_SEED)
    assert game_seed(MAX_SEED, 5, 999) < 2**32  # the largest seed a suite can ask for fits TextWorld
