"""Scenarios: one module per kind of run, each a pydantic config plus `prepare` (fix and check what the
config leaves open, before a run directory exists) and `build` (assemble environment, tools, model,
context and graph for a run directory). `run` is how every front end runs one.

```python
from retinue import BacktestScenario, run

result = run(BacktestScenario(method="momentum", tickers=["TSLA"], start="2022-10-05", end="2022-12-30"))
print(result.metrics["cumulative_log_return_pct"], result.path)
```
"""

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory
from retinue.runs.driver import RunInterrupted, RunResult, drive
from retinue.scenarios import ask, backtest, effiqa, tips
from retinue.scenarios.ask import AskScenario
from retinue.scenarios.backtest import BacktestScenario, TrainingWindow
from retinue.scenarios.base import ScenarioConfig
from retinue.scenarios.chat import ChatScenario, open_sessions
from retinue.scenarios.effiqa import EffiQAScenario
from retinue.scenarios.tips import TipsScenario

Scenario = AskScenario | BacktestScenario | EffiQAScenario | TipsScenario

# The run command each scenario's runs are recorded under, and the module that prepares and builds it.
_MODULES: dict[str, tuple[type[ScenarioConfig], ModuleType]] = {
    "ask": (AskScenario, ask),
    "backtest": (BacktestScenario, backtest),
    "eval effiqa": (EffiQAScenario, effiqa),
    "ask-kg": (EffiQAScenario, effiqa),
    "eval tips": (TipsScenario, tips),
}

__all__ = [
    "AskScenario",
    "BacktestScenario",
    "ChatScenario",
    "EffiQAScenario",
    "RunInterrupted",
    "RunResult",
    "Scenario",
    "ScenarioConfig",
    "TipsScenario",
    "TrainingWindow",
    "load_scenario",
    "open_sessions",
    "run",
]


def run(
    config: Scenario | None = None,
    *,
    out: Path | None = None,
    resume: Path | None = None,
    command: str | None = None,
    console: Console | None = None,
    on_token: Callable[[str, dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run a scenario durably and return its metrics and run directory.

    config: what to run (`AskScenario`, `BacktestScenario`, `EffiQAScenario`, `TipsScenario`); not needed
        with `resume`.
    out: the run directory to create (new or empty; default: a fresh one under RETINUE_HOME/runs).
    resume: a stopped run's directory, continued from its last checkpoint (a finished one is only reported).
    command: the command the run is recorded under (default: the scenario's own, e.g. "backtest").
    console: where progress bars go (default: stderr).
    on_token: called with each token of the model's replies as they stream, and the call's metadata.

    Raises `RetinueError` for a config the data cannot satisfy (before any run directory is made), and
    `RunInterrupted` (a `KeyboardInterrupt`) on Ctrl-C, with the resumable run's `path`.
    """
    from retinue.paths import runs_root
    from retinue.training.lm.shipped import ensure_chat_model, model_for_new_run

    console = console or Console(stderr=True)
    if resume is not None:
        if config is not None:
            raise RetinueError("give a scenario to start a run, or resume=RUN_DIR to continue one, not both")
        folder, ready = load_scenario(resume)
        command = str(folder.record()["command"])
        ensure_chat_model(ready.llm, console)  # the run's own model, built on first use if shipped
        folder = RunDirectory.resume(resume, command)
    elif config is None:
        raise RetinueError("run() needs a scenario config, or resume=RUN_DIR")
    else:
        command = command or config.command
        ready = _module(command).prepare(config)
        if ready.uses_model:  # names its model (agent-gemma by default), built on first use
            ready = ready.model_copy(update={"llm": model_for_new_run(ready.llm, console)})
        folder = RunDirectory.create(command, ready.saved(), out, runs_root())
    assembled = _module(command).build(ready, folder, console)
    return drive(folder, assembled, resume=resume is not None, console=console, on_token=on_token)


def load_scenario(path: Path) -> tuple[RunDirectory, Scenario]:
    """A run directory and the scenario config it was started with."""
    from retinue.config import validate_config

    folder = RunDirectory.open(path)
    command = str(folder.record().get("command"))
    if command not in _MODULES:
        raise RetinueError(f"{path} is a '{command}' run, which is not a scenario run ({', '.join(_MODULES)})")
    kind, _ = _MODULES[command]
    saved = {k: v for k, v in folder.config().items() if k != "command"}
    return folder, validate_config(kind, saved, source=str(folder.config_path))  # type: ignore[return-value]


def _module(command: str) -> ModuleType:
    if command not in _MODULES:
        raise RetinueError(f"no scenario runs under the command {command!r}; known: {', '.join(_MODULES)}")
    return _MODULES[command][1]
