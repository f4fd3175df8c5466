"""A discrete-event simulation of one training iteration under 1F1B: the ground truth that the latency
models are judged against.

Every replica runs its own 1F1B pipeline: stage s first does min(p - s - 1, m) forward passes, then
alternates one forward and one backward, then finishes its backward passes. A forward of micro-batch j on
stage s starts once stage s is free and micro-batch j's activations have arrived from stage s - 1; a
backward once its gradients have arrived from stage s + 1 (on the last stage, once its own forward is
done). Each transfer occupies its directed node-to-node link for bytes / bandwidth, so replicas whose
pipelines share a link queue on it (inside a node, NVLink; links between different node pairs are
independent). Ops are scheduled in order of their earliest start. When a stage has finished its last
backward in every replica, its gradient all-reduce runs (the hierarchical ring of `latency.py`); the
iteration ends with the last all-reduce.
"""

from dataclasses import dataclass

from retinue.training.pipette.cluster import Cluster
from retinue.training.pipette.latency import data_parallel_seconds, stage_cost, transfer_seconds
from retinue.training.pipette.memory import Parallelism
from retinue.training.pipette.model import ModelSpec
from retinue.training.pipette.placement import Placement


@dataclass(frozen=True)
class Op:
    backward: bool
    micro_batch: int


def one_f_one_b(stage: int, stages: int, micro_batches: int) -> list[Op]:
    warmup = min(stages - stage - 1, micro_batches)
    ops = [Op(False, j) for j in range(warmup)]
    for i in range(micro_batches - warmup):
        ops += [Op(False, warmup + i), Op(True, i)]
    return ops + [Op(True, j) for j in range(micro_batches - warmup, micro_batches)]


def simulate(
    model: ModelSpec,
    cluster: Cluster,
    plan: Parallelism,
    placement: Placement,
    *,
    forward: float | None = None,
    backward: float | None = None,
    activation_bytes: float | None = None,
) -> float:
    """Seconds of one iteration. The per-op costs default to `latency.stage_cost` (tests set them)."""
    cost = stage_cost(model, cluster, plan)
    f = cost.forward if forward is None else forward
    b = cost.backward if backward is None else backward
    nbytes = cost.activation_bytes if activation_bytes is None else activation_bytes
    p, m = plan.pp, plan.micro_batches
    nodes = placement.stage_nodes(cluster, plan)
    schedules = [one_f_one_b(s, p, m) for s in range(p)]
    position = {(r, s): 0 for r in range(plan.dp) for s in range(p)}
    free = dict.fromkeys(position, 0.0)
    arrival: dict[tuple[int, int, bool, int], float] = {}  # (replica, stage, backward, micro-batch)
    done_forward: dict[tuple[int, int, int], float] = {}
    link_free: dict[tuple[int, int], float] = {}
    last_backward = dict.fromkeys(position, 0.0)
    remaining = plan.dp * p * 2 * m
    while remaining:
        best: tuple[float, int, int] | None = None
        for (r, s), index in position.items():
            if index == len(schedules[s]):
                continue
            op = schedules[s][index]
            if op.backward and s == p - 1:
                ready = done_forward.get((r, s, op.micro_batch))
            elif not op.backward and s == 0:
                ready = 0.0
            else:
                ready = arrival.get((r, s, op.backward, op.micro_batch))
            if ready is None:
                continue
            start = max(ready, free[(r, s)])
            if best is None or start < best[0]:
                best = (start, r, s)
        if best is None:
            raise RuntimeError("1F1B schedule deadlocked")  # cannot happen for a valid schedule
        start, r, s = best
        op = schedules[s][position[(r, s)]]
        end = start + (b if op.backward else f)
        free[(r, s)] = end
        position[(r, s)] += 1
        remaining -= 1
        if op.backward:
            last_backward[(r, s)] = end
            target = s - 1
        else:
            done_forward[(r, s, op.micro_batch)] = end
            target = s + 1
        if 0 <= target < p:
            link = (nodes[r][s], nodes[r][target])
            begin = max(end, link_free.get(link, 0.0)) if link[0] != link[1] else end
            arrive = begin + transfer_seconds(cluster, link[0], link[1], nbytes)
            if link[0] != link[1]:
                link_free[link] = arrive
            arrival[(r, target, op.backward, op.micro_batch)] = arrive
    allreduce = data_parallel_seconds(model, cluster, plan, nodes)
    return max(max(last_backward[(r, s)] for r in range(plan.dp)) + allreduce[s] for s in range(p))
