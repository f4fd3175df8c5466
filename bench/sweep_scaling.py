"""Sweeps on Ray vs this machine's own process pool, with scripted models standing in for real ones.

1. Speed-up: an 8-cell sweep whose model keeps a core busy per call (`compute_seconds`), run one cell at a
   time (the local pool with one worker: the baseline) and as Ray tasks on a Ray started for the sweep.
   Target: sequential / Ray >= 1.7 on 2 cores.
2. Overhead: sweeps of 8, 32 and 128 cells with a no-op model (no compute), on the local pool (as many
   workers as cores) and on Ray. Ray's cost per cell is (Ray seconds - pool seconds) / cells; Ray's own
   start and stop are timed apart and left out of it.

Each cell is `retinue eval effiqa --method io` over a small question file with `--llm scripted`: a real
run directory, checkpoints and metrics, but no knowledge graph and no model weights.

    python bench/sweep_scaling.py [--sizes 8,32,128] [--compute 0.5] [--questions 10] [--out DIR]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _report import finish

from retinue.runs.sweep import SweepSpec, run_sweep, run_sweep_on_ray

QUESTIONS = [
    "what movies did [Temuera Morrison] act in\tOnce Were Warriors",
    "what does [Tom Cullen] act in\tWeekend",
    "what movies did [Evelyn Venable] act in\tAlice Adams",
]


def spec(folder: Path, cells: int, questions: int, compute: float) -> SweepSpec:
    """`cells` cells of an IO evaluation of `questions` questions, each call `compute` CPU seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    question_file, script = folder / "questions.txt", folder / "script.json"
    question_file.write_text("\n".join((QUESTIONS * questions)[:questions]) + "\n")
    script.write_text(json.dumps({"responses": [{"answer": "Weekend"}] * questions, "compute_seconds": compute}))
    return SweepSpec(
        command="eval effiqa",
        options={
            "method": "io",
            "questions": str(question_file),
            "llm": "scripted",
            "script": str(script),
            "no_cache": True,
        },
        grid={"seed": list(range(cells))},
    )


def timed(run) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    outcomes = run()
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if o.status != "completed"]
    if failed:
        raise SystemExit(f"{len(failed)} cells failed, e.g. {failed[0].cell.name}: {failed[0].error}")
    return seconds


def ray_start_stop_seconds() -> float:
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.shutdown()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="8,32,128", help="Cell counts of the overhead sweeps.")
    parser.add_argument("--compute", type=float, default=0.5, help="CPU seconds per model call (speed-up).")
    parser.add_argument("--questions", type=int, default=10, help="Questions (model calls) per speed-up cell.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    report: dict[str, float] = {"cores": cores}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["RETINUE_HOME"] = str(root / "home")
        busy = spec(root / "busy", 8, args.questions, args.compute)
        sequential = timed(lambda: run_sweep(busy, root / "sequential", 1))
        on_ray = timed(lambda: run_sweep_on_ray(busy, root / "ray", None))
        report |= {"speedup_cells": 8, "sequential_seconds": round(sequential, 2), "ray_seconds": round(on_ray, 2)}
        report["ray_speedup"] = round(sequential / on_ray, 3)
        print(f"8 cells x {args.questions} calls x {args.compute} s: sequential {sequential:.1f} s, Ray {on_ray:.1f} s")
        print(f"Ray speed-up over sequential on {cores} cores: {report['ray_speedup']:.2f}x")

        report["ray_start_stop_seconds"] = round(ray_start_stop_seconds(), 2)
        print(f"Ray start and stop: {report['ray_start_stop_seconds']:.1f} s")
        for size in (int(n) for n in args.sizes.split(",")):
            noop = spec(root / f"noop-{size}", size, 1, 0.0)
            pool = timed(lambda noop=noop, size=size: run_sweep(noop, root / f"pool-{size}", cores))
            ray = timed(lambda noop=noop, size=size: run_sweep_on_ray(noop, root / f"ray-{size}", None))
            overhead = (ray - report["ray_start_stop_seconds"] - pool) / size
            report |= {
                f"pool_seconds_per_cell_{size}": round(pool / size, 3),
                f"ray_seconds_per_cell_{size}": round(ray / size, 3),
                f"ray_overhead_seconds_per_cell_{size}": round(overhead, 3),
            }
            print(
                f"{size:>4} no-op cells: pool {pool / size:.2f} s/cell, Ray {ray / size:.2f} s/cell, "
                f"Ray's extra cost {overhead:+.3f} s/cell"
            )
    finish(report, "Ray speed-up over sequential >= 1.7x", report["ray_speedup"] >= 1.7, args.out)


if __name__ == "__main__":
    main()
