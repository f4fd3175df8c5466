"""`retinue plan-training`: Pipette's 3D-parallel configuration for a model on a measured cluster."""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retinue.cli.common import RunDirOption, err, out
from retinue.errors import RetinueError


def plan_training(
    preset: Annotated[
        str,
        typer.Option(help="The model to train: gpt3-1.3b | gpt3-2.7b | gpt3-6.7b | gpt3-13b | llama-7b | llama-13b."),
    ],
    cluster: Annotated[Path, typer.Option(help="mpiGraph bandwidth file (shared/data/pipette/time_*.json layout).")],
    global_batch: Annotated[int, typer.Option(help="Sequences per iteration.")] = 512,
    gpu_mem: Annotated[float, typer.Option(help="GPU memory in GB.")] = 80.0,
    gpus_per_node: Annotated[int, typer.Option(help="GPUs in each node.")] = 8,
    top: Annotated[int, typer.Option(help="How many configurations to list.")] = 5,
    steps: Annotated[int, typer.Option(help="Simulated-annealing steps per refined configuration.")] = 2000,
    out_dir: RunDirOption = None,
) -> None:
    """Rank (tensor, pipeline, data)-parallel degrees, micro-batch size and node order for training PRESET
    on CLUSTER, by Pipette's latency model among the configurations that fit in memory, each checked in a
    1F1B simulation. Writes plan.json, metrics.json, rankfile.txt, bandwidth.png and mapping.png."""
    from retinue.jsonfiles import write_json_atomic
    from retinue.paths import runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.training.pipette.cluster import load_cluster
    from retinue.training.pipette.model import preset as model_preset
    from retinue.training.pipette.report import plan_record, plot_bandwidth, plot_mapping, rankfile
    from retinue.training.pipette.search import amp_search, megatron_heuristic, pipette_search
    from retinue.training.pipette.simulator import simulate

    spec = model_preset(preset)
    if global_batch < 1 or top < 1 or steps < 0:
        raise RetinueError("--global-batch and --top must be at least 1, --steps at least 0")
    machines = load_cluster(cluster, gpus_per_node=gpus_per_node, gpu_memory_gb=gpu_mem)
    started = time.perf_counter()
    ranked = pipette_search(spec, machines, global_batch, top=top, steps=steps)
    search_seconds = time.perf_counter() - started
    run = RunDirectory.create(
        "plan-training",
        {
            "model": preset,
            "cluster": str(cluster),
            "global_batch": global_batch,
            "gpu_mem": gpu_mem,
            "gpus_per_node": gpus_per_node,
            "top": top,
            "steps": steps,
        },
        out_dir,
        runs_root(),
    )
    records = []
    table = Table(title=f"{preset} on {machines.gpus} GPUs, global batch {global_batch}", title_justify="left")
    for column in ("#", "tp", "pp", "dp", "micro-batch", "layout", "predicted s", "simulated s", "memory GB"):
        table.add_column(column, justify="right")
    for rank, candidate in enumerate(ranked, start=1):
        simulated = simulate(spec, machines, candidate.plan, candidate.placement)
        records.append(
            plan_record(
                spec,
                machines,
                candidate.plan,
                candidate.placement,
                global_batch,
                predicted_seconds=round(candidate.predicted_seconds, 4),
                simulated_seconds=round(simulated, 4),
                memory_gb=round(candidate.memory_gb, 2),
            )
        )
        p = candidate.plan
        table.add_row(
            str(rank),
            str(p.tp),
            str(p.pp),
            str(p.dp),
            str(p.micro_batch),
            candidate.placement.layout,
            f"{candidate.predicted_seconds:.3f}",
            f"{simulated:.3f}",
            f"{candidate.memory_gb:.1f}",
        )
    best = ranked[0]
    amp = amp_search(spec, machines, global_batch, top=top)
    megatron = megatron_heuristic(spec, machines, global_batch)
    metrics = {
        "best_predicted_seconds": records[0]["predicted_seconds"],
        "best_simulated_seconds": records[0]["simulated_seconds"],
        "best_memory_gb": records[0]["memory_gb"],
        "amp_choice_simulated_seconds": round(simulate(spec, machines, amp[0].plan, amp[0].placement), 4),
        "amp_top_over_memory": sum(c.memory_gb > gpu_mem for c in amp),
        "megatron_choice_simulated_seconds": round(simulate(spec, machines, megatron.plan, megatron.placement), 4),
        "search_seconds": round(search_seconds, 3),
    }
    write_json_atomic(run.path / "plan.json", {"model": preset, "global_batch": global_batch, "plans": records})
    (run.path / "rankfile.txt").write_text(rankfile(machines, best.plan, best.placement))
    plot_bandwidth(run.path / "bandwidth.png", machines, f"inter-node bandwidth, {cluster.name}")
    plot_mapping(run.path / "mapping.png", machines, best.plan, best.placement, f"{preset}: {best.plan}")
    run.write_metrics(metrics)
    run.update_record(status="completed", duration_seconds=round(time.perf_counter() - started, 3))
    out.print(table)
    out.print("megatron-lm: " + " ".join(records[0]["megatron_args"]))
    err.print(f"plan: {run.path / 'plan.json'}")
