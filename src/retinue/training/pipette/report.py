"""What `retinue plan-training` writes: the ranked plans as JSON, Megatron-LM arguments, a rankfile, and
pictures of the bandwidth matrix and of the chosen stage-to-node map."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from retinue.training.pipette.cluster import Cluster  # noqa: E402
from retinue.training.pipette.memory import Parallelism  # noqa: E402
from retinue.training.pipette.model import ModelSpec  # noqa: E402
from retinue.training.pipette.placement import Placement  # noqa: E402


def megatron_args(model: ModelSpec, plan: Parallelism, global_batch: int) -> list[str]:
    args = {
        "--tensor-model-parallel-size": plan.tp,
        "--pipeline-model-parallel-size": plan.pp,
        "--micro-batch-size": plan.micro_batch,
        "--global-batch-size": global_batch,
        "--num-layers": model.layers,
        "--hidden-size": model.hidden,
        "--num-attention-heads": model.heads,
        "--seq-length": model.seq_len,
        "--max-position-embeddings": model.seq_len,
    }
    if model.ffn:
        args["--ffn-hidden-size"] = model.ffn
    return [part for key, value in args.items() for part in (key, str(value))]


def rankfile(cluster: Cluster, plan: Parallelism, placement: Placement) -> str:
    """An Open MPI rankfile that puts each Megatron-LM rank on the GPU the plan chose."""
    ranks = placement.megatron_ranks(cluster, plan)
    return "".join(f"rank {rank}={host} slot={gpu}\n" for rank, (host, gpu) in enumerate(ranks))


def plot_bandwidth(path: Path, cluster: Cluster, title: str) -> None:
    matrix = cluster.bandwidth.copy()
    np.fill_diagonal(matrix, np.nan)
    figure, axes = plt.subplots(figsize=(7, 6))
    image = axes.imshow(matrix, cmap="viridis")
    axes.set_xticks(range(len(cluster.nodes)), cluster.nodes, rotation=90, fontsize=7)
    axes.set_yticks(range(len(cluster.nodes)), cluster.nodes, fontsize=7)
    axes.set_title(title)
    figure.colorbar(image, label="GB/s (slower direction)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_mapping(path: Path, cluster: Cluster, plan: Parallelism, placement: Placement, title: str) -> None:
    """Nodes (rows) by units (columns), coloured by pipeline stage and labelled with the replica."""
    units_per_node = cluster.gpus_per_node // plan.tp
    grid = np.zeros((len(cluster.nodes), units_per_node))
    labels: dict[tuple[int, int], str] = {}
    for replica in range(plan.dp):
        for stage in range(plan.pp):
            unit = placement.unit(plan, replica, stage)
            row, column = placement.node_order[unit // units_per_node], unit % units_per_node
            grid[row, column] = stage
            labels[(row, column)] = f"r{replica}"
    figure, axes = plt.subplots(figsize=(2 + 0.9 * units_per_node, 0.35 * len(cluster.nodes) + 1.5))
    image = axes.imshow(
        grid, cmap="tab20" if plan.pp <= 20 else "viridis", aspect="auto", vmin=-0.5, vmax=max(plan.pp - 0.5, 0.5)
    )
    for (row, column), text in labels.items():
        axes.text(column, row, text, ha="center", va="center", fontsize=6)
    axes.set_yticks(range(len(cluster.nodes)), cluster.nodes, fontsize=7)
    axes.set_xticks(
        range(units_per_node),
        [f"GPUs {u * plan.tp}-{(u + 1) * plan.tp - 1}" for u in range(units_per_node)],
        rotation=45,
        fontsize=7,
    )
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, label="pipeline stage", ticks=range(0, plan.pp, max(1, plan.pp // 10)))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plan_record(
    model: ModelSpec, cluster: Cluster, plan: Parallelism, placement: Placement, global_batch: int, **figures: Any
) -> dict[str, Any]:
    return {
        "tp": plan.tp,
        "pp": plan.pp,
        "dp": plan.dp,
        "micro_batch": plan.micro_batch,
        "micro_batches": plan.micro_batches,
        "layout": placement.layout,
        "node_order": [cluster.nodes[i] for i in placement.node_order],
        **figures,
        "megatron_args": megatron_args(model, plan, global_batch),
    }
