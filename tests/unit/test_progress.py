import io

from rich.console import Console

from retinue.progress import LoggedProgress, default_columns, describe


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _bars(terminal: bool, clock: Clock) -> tuple[LoggedProgress, io.StringIO]:
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=terminal, width=100)
    return LoggedProgress(*default_columns(), console=console, every=30.0, get_time=clock), sink


def _questions(terminal: bool, total: int, answered: int, seconds_each: float) -> str:
    """What the bars write while `answered` of `total` questions are done, `seconds_each` apart."""
    clock = Clock()
    bars, sink = _bars(terminal, clock)
    with bars:
        task = bars.add_task("questions", total=total)
        for done in range(1, answered + 1):
            clock.now = done * seconds_each
            bars.update(task, completed=done)
    return sink.getvalue()


def test_off_a_terminal_a_line_is_written_at_most_every_interval() -> None:
    written = _questions(terminal=False, total=500, answered=100, seconds_each=2.0)
    lines = [line for line in written.splitlines() if line.startswith("questions: ")]
    # 200 s of work, a line every 30 s: at 30, 60, ..., 180 s.
    assert len(lines) == 6
    assert lines[0].startswith("questions: 15/500 (3 %) in 0:30, about ")
    assert lines[-1].startswith("questions: 90/500 (18 %) in 3:00")


def test_advance_logs_too_and_a_finished_task_is_left_to_rich() -> None:
    clock = Clock()
    bars, sink = _bars(terminal=False, clock=clock)
    with bars:
        task = bars.add_task("sweep cells", total=2)
        clock.now = 40.0
        bars.advance(task)
        clock.now = 80.0
        bars.advance(task)
    lines = [line for line in sink.getvalue().splitlines() if line.startswith("sweep cells: ")]
    assert lines == ["sweep cells: 1/2 (50 %) in 0:40"]  # one sample: rich makes no estimate yet


def test_on_a_terminal_only_the_bars_are_drawn() -> None:
    assert "questions: " not in _questions(terminal=True, total=10, answered=10, seconds_each=60.0)


def test_describe_without_a_total_or_an_estimate() -> None:
    assert describe("training steps", 7, None, 3725.0, None) == "training steps: 7 in 1:02:05"
