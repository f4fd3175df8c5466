"""Durable runs: run directories, the context nodes receive, and the resumable executor."""

from retinue.runs.context import RunContext, report_progress
from retinue.runs.directory import RunDirectory, list_runs
from retinue.runs.execute import execute, open_run_store

__all__ = ["RunContext", "RunDirectory", "execute", "list_runs", "open_run_store", "report_progress"]
