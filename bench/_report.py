"""What the benchmarks share: running a resumable retinue command, and at the end saying whether a
target was met and saving metrics.json."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def save_metrics(report: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")


def finish(
    report: dict[str, Any], target: str, met: bool | None, out: Path | None, unchecked: str = "not checked"
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


def probe_summary(
    roles: list[str], folder: Path, model_options: list[str], no_run: bool = False
) -> dict[str, float | str | bool]:
    """The skill probes of the model a results table ran (`retinue probe`, one run per role under `folder`,
    read back when finished): a line per role printed, its figures returned as probe_<role>_* keys."""
    from retinue.probes import summary_line

    report: dict[str, float | str | bool] = {}
    for role in roles:
        run = folder / f"probe-{role}"
        if not (run / "metrics.json").exists():
            if no_run:
                skip_unfinished(f"probe {role}")
                continue
            if run.exists():  # a probe is short: a stopped one starts again
                import shutil

                shutil.rmtree(run)
            command = [sys.executable, "-m", "retinue.cli", "probe", "--role", role, "--out", str(run)]
            run_or_stop([*command, *model_options], f"probe {role}")
        metrics = json.loads((run / "metrics.json").read_text())
        print(f"probe {summary_line(role, metrics)}", flush=True)
        report["model"] = metrics["model"]
        for key in ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "chance", "skill_shown"):
            report[f"probe_{role}_{key}"] = metrics[key]
        for key in ("position_bias_rate", "flip_rate", "cases"):
            report[f"probe_{role}_{key}"] = metrics[key]
    return report
