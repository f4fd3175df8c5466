"""What every command shares: the console, the model options and their translation into settings."""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperOption

from retinue.config import LLMConfig, Provider

# "rich" markup would take "[llm]" for a style and keep the docstrings' line breaks in the command lists.
HELP_MARKUP: Literal["markdown"] = "markdown"


def _flag_type(option: TyperOption, ctx: Any) -> str | None:
    """A flag takes no value, so its help shows no type (typer 0.29 showed `<bool>` beside each flag,
    --help included)."""
    return None if option.is_flag else _typed(option, ctx)


_typed = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign, assignment]


def command_group(help: str) -> typer.Typer:
    """A `retinue` sub-command group (runs, train, eval, ...), helped like the root app."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=HELP_MARKUP)


out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

LLMOption = Annotated[Provider | None, typer.Option("--llm", help="Chat model seam (default: embedded).")]
ModelOption = Annotated[
    str | None,
    typer.Option(
        help="embedded: agent-gemma by default (built on first use), gemma3-270m for the base model, a GGUF path or "
        "a model trained here; openai: the model name."
    ),
]
BaseUrlOption = Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint base URL.")]
ScriptOption = Annotated[Path | None, typer.Option(help="Scripted responses (JSON) for --llm scripted.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="A retinue TOML file ([llm] table).")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Call the model even for a repeated call.")]
RunDirOption = Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")]
ResumeOption = Annotated[
    Path | None, typer.Option("--resume", help="Continue this stopped run directory from its last checkpoint.")
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="RETINUE_DB",
        help="PostgreSQL URL (postgresql://USER@HOST:PORT/DBNAME) for checkpoints and the response cache "
        "(default: SQLite files).",
    ),
]


@dataclass(frozen=True)
class ModelOptions:
    """The model options every command that calls a model takes (`with_model_options` adds them)."""

    llm: Provider | None = None
    model: str | None = None
    base_url: str | None = None
    script: Path | None = None
    config: Path | None = None
    no_cache: bool = False

    def overrides(self) -> dict[str, Any]:
        """The options as overrides of the [llm] table (None: not given)."""
        return {
            "provider": self.llm,
            "model": self.model,
            "base_url": self.base_url,
            "script": self.script,
            "cache": False if self.no_cache else None,
        }

    def settings(self, default_model: bool = True) -> LLMConfig:
        """The [llm] settings of --config with the model options over them, checked now: a command refuses a
        model it could not make before it creates a run directory. A named shipped model is built now; with
        `default_model` an embedded one with no name gets agent-gemma (a scenario run leaves that to
        `retinue.run`, which gives it only to a run that calls the model)."""
        from retinue.config import load_settings
        from retinue.llms.providers import check_chat_model
        from retinue.training.lm.shipped import ensure_chat_model, model_for_new_run

        llm_config = load_settings(self.config, self.overrides()).llm
        if default_model:
            llm_config = model_for_new_run(llm_config, err)
        else:
            ensure_chat_model(llm_config, err)
        check_chat_model(llm_config)
        return llm_config


DEFAULT_MODEL_OPTIONS = ModelOptions()  # what a command called from Python without the options gets

_MODEL_PARAMETERS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        ("llm", LLMOption, None),
        ("model", ModelOption, None),
        ("base_url", BaseUrlOption, None),
        ("script", ScriptOption, None),
        ("config", ConfigOption, None),
        ("no_cache", NoCacheOption, False),
    )
]

CommandT = TypeVar("CommandT", bound=Callable[..., Any])


def with_model_options(command: CommandT) -> CommandT:
    """Give `command` the model options (--llm, --model, --base-url, --script, --config, --no-cache); it
    receives them as one `models: ModelOptions` argument."""
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "models"]
    names = [p.name for p in _MODEL_PARAMETERS]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        models = ModelOptions(**{name: kwargs.pop(name) for name in names if name in kwargs})
        return command(*args, models=models, **kwargs)

    parameters = kept + _MODEL_PARAMETERS
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
    return wrapper  # type: ignore[return-value]


def complete_run(run: Any, metrics: dict[str, Any], seconds: float) -> None:
    """A run that needs no resuming is done: metrics.json written, run.json completed with its duration, and
    each metric printed as `key: value`."""
    run.write_metrics(metrics)
    run.update_record(status="completed", duration_seconds=seconds)
    for key, value in metrics.items():
        out.print(f"{key}: {value}")


def print_usage(usage: dict[str, Any]) -> None:
    table = Table(title="usage", title_justify="left")
    for column in ("role", "calls", "cached", "tokens in", "tokens out", "fallbacks", "errors", "seconds"):
        table.add_column(column, justify="left" if column == "role" else "right")
    rows = [*usage["by_role"].items(), ("total", usage["total"])]
    for role, u in rows:
        table.add_row(
            role,
            str(u["calls"]),
            str(u["cache_hits"]),
            str(u["prompt_tokens"]),
            str(u["completion_tokens"]),
            str(u["fallbacks"]),
            str(u["errors"]),
            f"{u['latency_seconds']:.2f}",
        )
    err.print(table)


def run_scenario(
    config: Any,
    *,
    out_dir: Path | None = None,
    resume: Path | None = None,
    command: str | None = None,
    on_token: Callable[[str, dict[str, Any]], None] | None = None,
) -> Any:
    """Run a scenario through `retinue.run` with progress on stderr; Ctrl-C prints how to continue the run
    and exits 130."""
    from retinue.scenarios import RunInterrupted, run

    try:
        return run(config, out=out_dir, resume=resume, command=command, console=err, on_token=on_token)
    except RunInterrupted as stopped:
        from retinue.runs.directory import RunDirectory

        recorded = RunDirectory.open(stopped.path).record().get("command")
        if recorded != "ask-kg":  # one question: nothing worth resuming
            err.print(f"\ninterrupted; continue with: retinue {recorded} --resume {stopped.path}")
        raise typer.Exit(130) from None
