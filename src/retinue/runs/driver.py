"""The one durable-run driver: execute an assembled scenario in its run directory, report its metrics.

Every run command and `retinue.run` go through `drive`: the graph runs (or continues) with progress, an
interrupt or a failure leaves the run resumable (see `execute`), and a finished run's final state becomes
metrics.json through the scenario's `report`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from retinue.runs.directory import RunDirectory

if TYPE_CHECKING:  # both load the model stack; a front end imports this module before it needs them
    from langgraph.graph import StateGraph

    from retinue.llms.usage import UsageRecorder


@dataclass
class ScenarioRun:
    """A scenario assembled for one run directory: the graph and its runtime context, the first state, and
    `report`, which turns the final state into the run's metrics (writing any other files it makes)."""

    graph: "StateGraph[Any, Any, Any, Any]"
    context: Any
    usage: "UsageRecorder"
    inputs: dict[str, Any]
    recursion_limit: int
    report: Callable[[dict[str, Any]], dict[str, Any]]
    close: Callable[[], None] | None = None  # releases what the context holds open (game processes)


@dataclass(frozen=True)
class RunResult:
    """What a finished run left: its folder, metrics (as in metrics.json), final graph state and usage."""

    path: Path
    metrics: dict[str, Any]
    final: dict[str, Any]
    usage: dict[str, Any]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; it is checkpointed and `path` can be resumed."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"interrupted; the run in {path} can be resumed")
        self.path = path


def drive(
    run: RunDirectory,
    assembled: ScenarioRun,
    *,
    resume: bool,
    console: Console | None = None,
    on_token: Callable[[str, dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run (or continue) `assembled` in `run`; write and return its metrics. `on_token` sees the model's
    reply as it streams, token by token."""
    from retinue.runs.execute import execute

    try:
        final = execute(
            assembled.graph,
            run=run,
            context=assembled.context,
            usage=assembled.usage,
            inputs=assembled.inputs,
            resume=resume,
            recursion_limit=assembled.recursion_limit,
            on_token=on_token,
            console=console,
        )
    except KeyboardInterrupt:
        raise RunInterrupted(run.path) from None
    finally:
        if assembled.close is not None:
            assembled.close()
    metrics = assembled.report(final)
    run.write_metrics(metrics)
    return RunResult(run.path, metrics, final, assembled.usage.to_dict())
