"""`retinue train ...`: commands that train or select data for the project's local models."""

import json
import random
import time
from pathlib import Path
from typing import Annotated

import typer

from retinue.cli.common import err, out
from retinue.errors import RetinueError

train_app = typer.Typer(help="Train local models or select their data.", no_args_is_help=True)


@train_app.command("zip-select")
def zip_select_command(
    pool: Annotated[Path, typer.Option(help="ShareGPT JSON list, or JSONL with a text field.")],
    budget: Annotated[int, typer.Option(help="How many items to select.")],
    k1: Annotated[int, typer.Option(help="Global stage: candidates by their last score.")] = 10_000,
    k2: Annotated[int, typer.Option(help="Coarse local stage: candidates kept after re-scoring.")] = 200,
    k3: Annotated[int, typer.Option(help="Fine local stage: items added one at a time per round.")] = 100,
    field: Annotated[str, typer.Option(help="JSONL: the field holding the text.")] = "text",
    seed: Annotated[int, typer.Option(help="Seed of the random subset compared against.")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
) -> None:
    """Select BUDGET items whose texts compress worst together (ZIP, the entropy law): less redundant data.
    Writes the selection in the pool's format (selected.json or selected.jsonl) and metrics.json with the
    compression ratio of the selection, of a random subset of the same size, and of the whole pool."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from retinue.jsonfiles import write_json_atomic
    from retinue.paths import runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.training.zip_select import compression_ratio, load_pool, zip_select

    items, texts, kind = load_pool(pool, field)
    if not 0 < budget <= len(items):
        raise RetinueError(f"--budget must be between 1 and the pool's {len(items)} items, not {budget}")
    config = {"pool": str(pool), "budget": budget, "k1": k1, "k2": k2, "k3": k3, "field": field, "seed": seed}
    run = RunDirectory.create("train zip-select", config, out_dir, runs_root())
    started = time.perf_counter()
    with Progress(TextColumn("selecting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("select", total=budget)
        selection = zip_select(texts, budget, k1, k2, k3, progress=lambda done, _: bar.update(task, completed=done))
    seconds = time.perf_counter() - started
    chosen = [items[i] for i in selection.indices]
    if kind == "sharegpt":
        write_json_atomic(run.path / "selected.json", chosen)
    else:
        (run.path / "selected.jsonl").write_text("".join(f"{json.dumps(i)}\n" for i in chosen))
    subset = random.Random(seed).sample(range(len(texts)), budget)
    metrics = {
        "selected_items": budget,
        "pool_items": len(items),
        "selected_compression_ratio": round(selection.ratio, 4),
        "random_compression_ratio": round(compression_ratio([texts[i] for i in subset]), 4),
        "pool_compression_ratio": round(compression_ratio(texts), 4),
        "selection_seconds": round(seconds, 3),
    }
    run.write_metrics(metrics)
    run.update_record(status="completed", duration_seconds=round(seconds, 3))
    for key, value in metrics.items():
        out.print(f"{key}: {value}")
    err.print(f"selection: {run.path}")
