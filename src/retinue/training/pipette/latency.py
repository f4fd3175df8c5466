"""Iteration-time models: Pipette's, which puts per-link communication on the 1F1B critical path, and an
AMP-style one (Li et al., 2022) that prices every inter-node link at the average bandwidth and adds
pipeline communication once, off the critical path.

Shared parts, per micro-batch of b sequences:
- stage compute: its layers' forward FLOPs over tp GPUs at the cluster's achieved throughput, backward
  twice that, plus the tensor-parallel all-reduces (2 forward, 2 backward per layer, ring over NVLink);
  the last stage also computes the LM head;
- pipeline transfer across a stage boundary: b s h fp16 activations forward, as many gradients back;
- data-parallel gradient all-reduce of each stage, hierarchical: a ring inside each node, then a ring
  across the nodes of the group, paced by its slowest link.
Pipette (Yim et al., DATE 2024): T = (m // p) (C + p (f + b)) + (p - 1)(f + b) + T_dp when m >= p, C the
slowest replica's pipeline communication for one micro-batch over all its boundaries.
"""

from dataclasses import dataclass

import numpy as np

from retinue.training.pipette.cluster import Cluster
from retinue.training.pipette.memory import Parallelism, layers_per_stage
from retinue.training.pipette.model import ModelSpec
from retinue.training.pipette.placement import Placement

GB = 1e9


@dataclass(frozen=True)
class StageCost:
    forward: float  # seconds per micro-batch, slowest stage
    backward: float
    activation_bytes: float  # one direction, one micro-batch


def stage_cost(model: ModelSpec, cluster: Cluster, plan: Parallelism) -> StageCost:
    """The slowest stage's costs: the last one, with the most layers and the LM head."""
    speed = cluster.gpu_tflops * 1e12 * cluster.efficiency * plan.tp
    compute = layers_per_stage(model, plan.pp) * model.layer_forward_flops(plan.micro_batch) / speed
    compute += 2.0 * plan.micro_batch * model.seq_len * model.hidden * model.vocab / speed  # LM head
    activation = 2.0 * plan.micro_batch * model.seq_len * model.hidden  # fp16
    tp_allreduces = 0.0
    if plan.tp > 1:
        ring = 2 * (plan.tp - 1) / plan.tp * activation / (cluster.intra_node_gbps * GB)
        tp_allreduces = 2 * layers_per_stage(model, plan.pp) * ring
    return StageCost(compute + tp_allreduces, 2 * compute + tp_allreduces, activation)


def transfer_seconds(cluster: Cluster, a: int, b: int, nbytes: float) -> float:
    return nbytes / (cluster.link(a, b) * GB)


def ring_allreduce_seconds(cluster: Cluster, nodes: list[int], gpus_per_node_in_group: int, nbytes: float) -> float:
    """Hierarchical ring all-reduce of `nbytes` per GPU: inside each node over NVLink, then across the
    group's distinct nodes (in their order) at the pace of the ring's slowest link."""
    seconds = 0.0
    if gpus_per_node_in_group > 1:
        k = gpus_per_node_in_group
        seconds += 2 * (k - 1) / k * nbytes / (cluster.intra_node_gbps * GB)
    distinct = list(dict.fromkeys(nodes))
    if len(distinct) > 1:
        k = len(distinct)
        slowest = min(cluster.link(a, b) for a, b in zip(distinct, distinct[1:] + distinct[:1], strict=True))
        seconds += 2 * (k - 1) / k * nbytes / (slowest * GB)
    return seconds


def stage_gradient_bytes(model: ModelSpec, plan: Parallelism, stage: int) -> float:
    """fp16 gradients of one GPU of `stage`."""
    params = layers_per_stage(model, plan.pp) * model.layer_params
    if stage in (0, plan.pp - 1):
        params += model.embedding_params
    return 2.0 * params / plan.tp


def data_parallel_seconds(
    model: ModelSpec, cluster: Cluster, plan: Parallelism, nodes: list[list[int]], uniform_gbps: float | None = None
) -> list[float]:
    """Per stage, the gradient all-reduce across its replicas. With `uniform_gbps`, every inter-node
    link is priced at that bandwidth (the AMP-style view)."""
    times = []
    for stage in range(plan.pp):
        group = [nodes[r][stage] for r in range(plan.dp)]
        if plan.dp == 1:
            times.append(0.0)
            continue
        per_node = max(group.count(n) for n in set(group))
        nbytes = stage_gradient_bytes(model, plan, stage)
        if uniform_gbps is None:
            times.append(ring_allreduce_seconds(cluster, group, per_node, nbytes))
        else:
            k_inter = len(set(group))
            seconds = 2 * (per_node - 1) / per_node * nbytes / (cluster.intra_node_gbps * GB) if per_node > 1 else 0.0
            if k_inter > 1:
                seconds += 2 * (k_inter - 1) / k_inter * nbytes / (uniform_gbps * GB)
            times.append(seconds)
    return times


def pipeline_comm_seconds(
    cluster: Cluster, cost: StageCost, nodes: list[list[int]], uniform_gbps: float | None = None
) -> float:
    """One micro-batch's activations forward and gradients back over every stage boundary, for the
    slowest replica."""
    worst = 0.0
    for replica in nodes:
        total = 0.0
        for a, b in zip(replica, replica[1:], strict=False):
            gbps = cluster.intra_node_gbps if a == b else (uniform_gbps or cluster.link(a, b))
            total += 2 * cost.activation_bytes / (gbps * GB)
        worst = max(worst, total)
    return worst


def pipette_seconds(model: ModelSpec, cluster: Cluster, plan: Parallelism, placement: Placement) -> float:
    cost = stage_cost(model, cluster, plan)
    nodes = placement.stage_nodes(cluster, plan)
    step = cost.forward + cost.backward
    comm = pipeline_comm_seconds(cluster, cost, nodes)
    p, m = plan.pp, plan.micro_batches
    pipeline = (m // p) * (comm + p * step) + (p - 1) * step if m >= p else (m + p - 1) * step + comm
    return pipeline + max(data_parallel_seconds(model, cluster, plan, nodes))


def average_inter_node_gbps(cluster: Cluster) -> float:
    n = len(cluster.nodes)
    if n < 2:
        return cluster.intra_node_gbps
    return float(cluster.bandwidth[~np.eye(n, dtype=bool)].mean())


def amp_seconds(model: ModelSpec, cluster: Cluster, plan: Parallelism, placement: Placement) -> float:
    """AMP-style: (m + p - 1)(f + b) + pipeline communication once + the all-reduce, every inter-node link
    at the average bandwidth."""
    cost = stage_cost(model, cluster, plan)
    nodes = placement.stage_nodes(cluster, plan)
    average = average_inter_node_gbps(cluster)
    step = cost.forward + cost.backward
    comm = pipeline_comm_seconds(cluster, cost, nodes, uniform_gbps=average)
    allreduce = max(data_parallel_seconds(model, cluster, plan, nodes, uniform_gbps=average))
    return (plan.micro_batches + plan.pp - 1) * step + comm + allreduce
