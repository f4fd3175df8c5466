"""Run a graph durably: checkpoints (SQLite in the run directory, or the PostgreSQL server the run's `db`
names) and a FaissStore in the run directory, resumable, with progress.

`execute` compiles the graph with the run's checkpointer and store, streams it (custom events drive a
rich progress bar, message chunks can be echoed as tokens), and keeps run.json and usage.json current.
Resuming a run that stopped continues from its last checkpoint; resuming a finished run replays nothing
and returns its final state.
"""

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from rich.console import Console

from retinue.llms.failures import endpoint_failures_explained
from retinue.llms.usage import UsageRecorder
from retinue.memory.embeddings import DIMENSIONS, MiniLMEmbeddings
from retinue.memory.faiss_store import FaissStore
from retinue.postgres import advisory_lock, connect
from retinue.progress import progress_bars
from retinue.runs.directory import RunDirectory

TokenSink = Callable[[str, dict[str, Any]], None]


def open_memory_store(folder: Path | None) -> FaissStore:
    """Agents' memory as runs keep it: items with MiniLM vector search over their "text" field, durable in
    `folder` (None: in memory only)."""
    return FaissStore(folder, index={"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]})


def open_run_store(run: RunDirectory) -> FaissStore:
    """The run's memory, in its directory."""
    return open_memory_store(run.store_path)


@contextmanager
def open_checkpointer(sqlite_path: Path, url: str | None) -> Iterator[BaseCheckpointSaver[Any]]:
    """LangGraph checkpoints in the SQLite file `sqlite_path`, or on the PostgreSQL server at `url`."""
    if url is None:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(sqlite_path, check_same_thread=False)
        try:
            yield SqliteSaver(conn)
        finally:
            conn.close()
        return
    from langgraph.checkpoint.postgres import PostgresSaver

    with connect(url) as pg:
        saver = PostgresSaver(pg)
        with advisory_lock(pg, "retinue checkpoint tables"):
            saver.setup()
        yield saver


class _ProgressView:
    """One progress bar per task named in custom `progress` events, each task's latest count also kept in
    run.json (`progress`), where `retinue runs list` shows it, with the run's time so far (`duration`
    returns it), so that a run killed outright still accounts for the time its finished steps took."""

    def __init__(self, console: Console, run: RunDirectory, duration: Callable[[], float]) -> None:
        self.progress = progress_bars(console=console)
        self.run = run
        self.duration = duration
        self.tasks: dict[str, Any] = {}
        self.counts: dict[str, list[Any]] = {}

    def update(self, event: dict[str, Any]) -> None:
        name = str(event["task"])
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=event.get("total"))
        self.progress.update(self.tasks[name], completed=event["completed"], total=event.get("total"))
        self.counts[name] = [event["completed"], event.get("total")]
        self.run.update_record(progress=self.counts, duration_seconds=round(self.duration(), 3))


def execute(
    graph: StateGraph[Any, Any, Any, Any],
    *,
    run: RunDirectory,
    context: Any,
    usage: UsageRecorder,
    inputs: dict[str, Any],
    resume: bool = False,
    recursion_limit: int = 1000,
    on_token: TokenSink | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run (or continue) `graph` in `run` with `context` as LangGraph's runtime context; returns the final
    state. `usage` (the recorder attached to the run's model) is saved with the outcome either way."""
    console = console or Console(stderr=True)
    record = run.record()
    config: RunnableConfig = {"configurable": {"thread_id": record["thread_id"]}, "recursion_limit": recursion_limit}
    if resume:
        usage.merge_dict(run.usage())
    previous = float(record.get("duration_seconds") or 0.0)  # earlier sessions of this run
    started = time.perf_counter()

    def duration() -> float:
        return previous + time.perf_counter() - started

    try:
        with open_checkpointer(run.checkpoints_path, run.database) as checkpointer, open_run_store(run) as store:
            compiled = graph.compile(checkpointer=checkpointer, store=store)
            snapshot = compiled.get_state(config)
            # Finished earlier: nothing to redo. A run stopped after a step's writes were saved but before
            # the checkpoint that applies them also lists no next task; its step's task is still there.
            if resume and snapshot.values and not snapshot.next and not snapshot.tasks:
                return dict(snapshot.values)
            stream_input = None if (resume and snapshot.values) else inputs
            run.update_record(
                status="running", pid=os.getpid(), resumed_at=datetime.now(UTC).isoformat() if resume else None
            )
            view = _ProgressView(console, run, duration)
            with view.progress:
                # With a list of modes LangGraph yields (mode, chunk) pairs; its overloads do not say so.
                parts: Iterator[tuple[str, Any]] = compiled.stream(  # type: ignore[assignment]
                    stream_input, config, context=context, stream_mode=["custom", "messages"], durability="sync"
                )
                for mode, chunk in parts:
                    if mode == "custom" and isinstance(chunk, dict) and "progress" in chunk:
                        view.update(chunk["progress"])
                        usage.save(run.usage_path)  # a killed run keeps its counts up to here
                    elif mode == "messages" and on_token is not None:
                        message, metadata = chunk
                        if message.content:
                            on_token(str(message.content), metadata)
            final = dict(compiled.get_state(config).values)
        _finish(run, usage, duration(), "completed")
        return final
    except KeyboardInterrupt:
        _finish(run, usage, duration(), "interrupted", error="interrupted by the user")
        raise
    except Exception as error:
        _finish(run, usage, duration(), "failed", error=f"{type(error).__name__}: {error}")
        # What ran is checkpointed: a server that was down costs nothing but the resume.
        advice = (
            f"the run keeps what it did: --resume {run.path} continues it with the same endpoint and model once "
            "the server answers (a wrong --base-url or --model needs a new run)"
        )
        with endpoint_failures_explained(advice):
            raise


def _finish(run: RunDirectory, usage: UsageRecorder, duration: float, status: str, error: str | None = None) -> None:
    usage.save(run.usage_path)
    run.update_record(
        status=status, finished_at=datetime.now(UTC).isoformat(), duration_seconds=round(duration, 3), error=error
    )
