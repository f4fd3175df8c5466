"""Progress bars that also report where nobody watches a terminal.

On a terminal, rich draws its bars. Written to a file (`nohup`, a sweep cell's log, CI), rich draws
nothing until the end, so a long backtest or evaluation gave no sign of life for hours. `progress_bars`
is rich's `Progress` that, off a terminal, also prints one plain line per task at most every `every`
seconds: how far it is, how long it has taken, and about how long is left.
"""

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn

LOG_EVERY_SECONDS = 30.0


def default_columns() -> tuple[ProgressColumn, ...]:
    """Description, bar, done/total, elapsed: the columns every retinue command shows."""
    return TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()


class LoggedProgress(Progress):
    """rich's `Progress`, plus a line per task every `every` seconds when its console is not a terminal."""

    def __init__(self, *columns: str | ProgressColumn, every: float = LOG_EVERY_SECONDS, **kwargs: Any) -> None:
        super().__init__(*columns, **kwargs)
        self.every = every
        self._logged_at: dict[TaskID, float] = {}

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def _log(self, task_id: TaskID) -> None:
        if self.console.is_terminal:
            return
        task = next(task for task in self.tasks if task.id == task_id)
        now = self.get_time()
        since = self._logged_at.get(task_id, task.start_time if task.start_time is not None else now)
        if task.finished or now - since < self.every:
            return  # the finished state is what rich prints when the bars stop
        self._logged_at[task_id] = now
        line = describe(task.description, task.completed, task.total, task.elapsed, task.time_remaining)
        self.console.print(line, markup=False, highlight=False)


def describe(name: str, completed: float, total: float | None, elapsed: float | None, remaining: float | None) -> str:
    """One plain progress line, e.g. "questions: 120/500 (24 %) in 20:00, about 1:03:20 left"."""
    line = f"{name}: {completed:g}"
    if total:
        line += f"/{total:g} ({100 * completed / total:.0f} %)"
    if elapsed is not None:
        line += f" in {clock(elapsed)}"
    if remaining is not None:
        line += f", about {clock(remaining)} left"
    return line


def clock(seconds: float) -> str:
    """Seconds as "m:ss", or "h:mm:ss" from an hour on."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_bars(*columns: str | ProgressColumn, console: Console, every: float = LOG_EVERY_SECONDS) -> LoggedProgress:
    """Bars with `columns` (default: `default_columns()`) on `console`; see the module's docstring."""
    return LoggedProgress(*(columns or default_columns()), console=console, every=every)
