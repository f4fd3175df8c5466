"""One set of model options for every command that calls a model."""

from typing import Any

import typer
from typer.testing import CliRunner

from retinue.cli.common import ModelOptions, with_model_options


def test_a_command_gets_the_model_options_as_one_argument() -> None:
    seen: list[ModelOptions] = []

    @with_model_options
    def command(name: str = "x", models: ModelOptions = ModelOptions()) -> None:  # noqa: B008
        seen.append(models)

    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)
    done = CliRunner().invoke(app, ["command", "--llm", "scripted", "--model", "m", "--no-cache", "--name", "y"])
    assert done.exit_code == 0, done.output
    assert seen == [ModelOptions(llm="scripted", model="m", no_cache=True)]
    assert seen[0].overrides() == {
        "provider": "scripted",
        "model": "m",
        "base_url": None,
        "script": None,
        "cache": False,
    }


def test_every_model_calling_command_lists_the_same_model_options() -> None:
    from retinue.cli import app

    commands = [["ask"], ["backtest"], ["chat"], ["eval", "effiqa"], ["ask-kg"], ["eval", "tips"], ["play"]]
    commands += [["probe"], ["serve"], ["train", "synthesize"]]
    for words in commands:
        done = CliRunner().invoke(app, [*words, "--help"], terminal_width=200)
        assert done.exit_code == 0, words
        for option in ("--llm", "--model", "--base-url", "--script", "--config", "--no-cache"):
            assert option in done.output, (words, option)


def test_no_help_shows_a_type_beside_a_flag() -> None:
    from retinue.cli import app

    def paths(command: Any, words: list[str]) -> list[list[str]]:
        found = [words]
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            for name, sub in command.commands.items():
                found += paths(sub, [*words, name])
        return found

    every = paths(typer.main.get_command(app), [])
    assert len(every) > 25
    for words in every:
        done = CliRunner().invoke(app, [*words, "--help"], terminal_width=200)
        assert done.exit_code == 0, words
        assert "<bool>" not in done.output, words
