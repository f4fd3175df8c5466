"""What every benchmark does at the end: say whether a target was met and save metrics.json."""

import json
from pathlib import Path


def save_metrics(report: dict[str, float], out: Path | None) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")


def finish(report: dict[str, float], target: str, met: bool, out: Path | None) -> None:
    print(f"target ({target}): {'met' if met else 'NOT met'}")
    save_metrics(report, out)
