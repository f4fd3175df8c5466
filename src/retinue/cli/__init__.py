"""The `retinue` command line. Errors a user can fix are printed plainly and exit 1, never a traceback."""

import os
import signal
import sys
from types import FrameType

import typer
from pydantic import ValidationError
from rich.markup import escape

from retinue.cli.agent_data import agent_data
from retinue.cli.agent_gemma import train_agent
from retinue.cli.ask import ask
from retinue.cli.backtest import backtest
from retinue.cli.chat import chat
from retinue.cli.common import HELP_MARKUP, command_group, err
from retinue.cli.effiqa import ask_kg, eval_effiqa, train_explorer
from retinue.cli.kbgn import eval_kbgn, make_kbgn_data, train_kbgn
from retinue.cli.lm import train_cpt, train_iclguard, train_transact
from retinue.cli.models import models_app
from retinue.cli.plan_training import plan_training
from retinue.cli.play import play
from retinue.cli.probe import probe
from retinue.cli.runs import runs_app
from retinue.cli.serve import serve
from retinue.cli.sweep import sweep
from retinue.cli.tips import eval_tips, games_app
from retinue.cli.train import train_app
from retinue.config import describe_validation_error
from retinue.errors import RetinueError
from retinue.llms.failures import ScriptExhaustedError, endpoint_failures_explained

app = typer.Typer(
    help="retinue: teams of LLM agents on LangGraph, run from the command line.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(ask)
app.command()(backtest)
app.command("plan-training")(plan_training)
app.add_typer(runs_app, name="runs")
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")
app.add_typer(games_app, name="games")
app.command("ask-kg")(ask_kg)
app.command()(chat)
app.command()(serve)
app.command()(sweep)
app.command()(play)
app.command()(probe)
train_app.command("explorer")(train_explorer)
train_app.command("agent-data")(agent_data)
train_app.command("agent")(train_agent)
train_app.command("kbgn-data")(make_kbgn_data)
train_app.command("kbgn")(train_kbgn)
train_app.command("cpt")(train_cpt)
train_app.command("transact")(train_transact)
train_app.command("iclguard")(train_iclguard)
eval_app = command_group("Evaluate agent systems on their benchmarks.")
eval_app.command("effiqa")(eval_effiqa)
eval_app.command("tips")(eval_tips)
eval_app.command("kbgn")(eval_kbgn)
app.add_typer(eval_app, name="eval")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: runs the app, turning errors the user can fix into one clear line."""
    # `kill PID` stops a command as Ctrl-C does: a durable run is marked interrupted with its time and
    # counts saved, and says how to resume.
    signal.signal(signal.SIGTERM, _interrupt)
    if os.environ.get("RETINUE_SWEEP_PARENT"):  # a sweep's cell: dies with the worker that started it
        from retinue.runs.sweep import die_with_parent

        die_with_parent()
    try:
        # A failed endpoint outside a durable run (a run says how to resume) or a chat turn.
        with endpoint_failures_explained("check --base-url and --model, and that the server is up"):
            app()
    except RetinueError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        sys.exit(1)
    except ValidationError as error:  # options that do not make a valid scenario config
        err.print(f"[red]error:[/red] {escape(describe_validation_error(error, error.title))}", highlight=False)
        sys.exit(1)
    except OSError as error:  # a path the user gave that cannot be read or written, a full disk
        where = f": {error.filename}" if error.filename else ""
        err.print(f"[red]error:[/red] {escape(error.strerror or str(error))}{escape(where)}", highlight=False)
        sys.exit(1)
    except ScriptExhaustedError as error:  # --llm scripted with too short a script: the user's input, not a bug
        message = f"{error}; the run kept its checkpoints (add responses, then --resume RUN_DIR)"
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        sys.exit(1)
