"""Durable runs: run directories, the context nodes receive, and the resumable executor.

The names load on first use (`retinue.lazy`): `retinue runs list` reads run directories without
importing the executor's LangGraph, faiss and model stack.
"""

from typing import TYPE_CHECKING

from retinue.lazy import lazy_names

if TYPE_CHECKING:
    from retinue.runs.context import RunContext, report_progress
    from retinue.runs.directory import RunDirectory, list_runs
    from retinue.runs.execute import execute, open_run_store

_HOMES = {
    "RunContext": "context",
    "report_progress": "context",
    "RunDirectory": "directory",
    "list_runs": "directory",
    "execute": "execute",
    "open_run_store": "execute",
}
__all__ = ["RunContext", "RunDirectory", "execute", "list_runs", "open_run_store", "report_progress"]
__getattr__ = lazy_names(__name__, _HOMES)
