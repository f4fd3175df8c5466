"""What the benchmarks share: running a resumable retinue command, and at the end saying whether a
target was met and saving metrics.json."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT_HELP = "Folder for the summary metrics.json (and figures); without it the summary is only printed."
NO_RUN_HELP = "Print the finished cells only: start or resume nothing (a missing cell is named and skipped)."


def skip_unfinished(name: str) -> None:
    print(f"{name}: not finished, skipped (--no-run)", flush=True)


def run_or_stop(command: list[str], name: str) -> None:
    """Run a resumable retinue command; if it stops, end the benchmark with one line (the command has
    said why, and the next call of the benchmark resumes it)."""
    done = subprocess.run(command)
    if done.returncode != 0:
        sys.exit(f"{name} stopped (exit {done.returncode}); run this script again to carry on")


def save_metrics(report: dict[str, float], out: Path | None) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")


def finish(
    report: dict[str, float], target: str, met: bool | None, out: Path | None, unchecked: str = "not checked"
) -> None:
    """Say whether `target` was `met` (None: not checked, in the words of `unchecked`) and save the report."""
    verdict = unchecked if met is None else ("met" if met else "NOT met")
    print(f"target ({target}): {verdict}")
    save_metrics(report, out)


def fresh_process_seconds(code: str, starts: int) -> float:
    """Median wall time of `python -c code` in `starts` fresh processes (imports and start-up included)."""
    times = []
    for _ in range(starts):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
