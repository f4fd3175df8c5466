"""The search: every (tp, pp, dp, micro-batch) that divides the cluster and the batch, both layouts, ranked
by Pipette's latency model among those that fit in memory; the best few then get their node order
annealed. Also the two baselines the README compares against: AMP-style ranking (its own latency
model, no memory check) and Megatron-LM's usual heuristic.

Annealing (`anneal`): start from the identity order; a move is a swap of two nodes, an insert (one node
moved elsewhere) or a 2-opt reversal of a segment; a worse order is kept with probability
exp(-(relative slowdown) / T), T = 1 at first and x0.999 per step.
"""

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from retinue.errors import RetinueError
from retinue.training.pipette.cluster import Cluster
from retinue.training.pipette.latency import amp_seconds, pipette_seconds
from retinue.training.pipette.memory import Parallelism, peak_memory_gb
from retinue.training.pipette.model import ModelSpec
from retinue.training.pipette.placement import LAYOUTS, Placement

MICRO_BATCHES = (1, 2, 4, 8)
Cost = Callable[[Placement], float]


@dataclass(frozen=True)
class Candidate:
    plan: Parallelism
    placement: Placement
    predicted_seconds: float
    memory_gb: float


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def plans(model: ModelSpec, cluster: Cluster, global_batch: int) -> list[Parallelism]:
    found = []
    for tp in _divisors(cluster.gpus_per_node):
        if model.heads % tp:
            continue
        for pp in _divisors(cluster.gpus // tp):
            if pp > model.layers:
                continue
            dp = cluster.gpus // (tp * pp)
            if global_batch % dp:
                continue
            for micro_batch in MICRO_BATCHES:
                if (global_batch // dp) % micro_batch == 0:
                    found.append(Parallelism(tp, pp, dp, micro_batch, global_batch // dp // micro_batch))
    return found


def _neighbour(order: list[int], rng: random.Random) -> list[int]:
    i, j = sorted(rng.sample(range(len(order)), 2))
    move = rng.randrange(3)
    if move == 0:  # swap
        order = order.copy()
        order[i], order[j] = order[j], order[i]
        return order
    if move == 1:  # insert node i at position j
        order = order.copy()
        order.insert(j, order.pop(i))
        return order
    return order[:i] + order[i : j + 1][::-1] + order[j + 1 :]  # 2-opt


def anneal(cost: Cost, nodes: int, layout: str, steps: int = 2000, seed: int = 0) -> tuple[Placement, float]:
    """The best node order found by simulated annealing under `cost`."""
    rng = random.Random(seed)
    current = list(range(nodes))
    current_cost = cost(Placement(tuple(current), layout))
    best, best_cost = current, current_cost
    temperature = 1.0
    if nodes < 2:
        return Placement(tuple(best), layout), best_cost
    for _ in range(steps):
        candidate = _neighbour(current, rng)
        candidate_cost = cost(Placement(tuple(candidate), layout))
        worse = (candidate_cost - current_cost) / current_cost
        if worse <= 0 or rng.random() < math.exp(-worse / max(temperature, 1e-12)):
            current, current_cost = candidate, candidate_cost
            if current_cost < best_cost:
                best, best_cost = current, current_cost
        temperature *= 0.999
    return Placement(tuple(best), layout), best_cost


def exhaustive(cost: Cost, nodes: int, layout: str) -> tuple[Placement, float]:
    """The optimal node order by trying them all (small clusters only)."""
    if nodes > 8:
        raise RetinueError(f"exhaustive search over {nodes}! node orders is too large; use annealing")
    scored = ((cost(Placement(order, layout)), order) for order in itertools.permutations(range(nodes)))
    best_cost, best = min(scored)
    return Placement(best, layout), best_cost


def pipette_search(
    model: ModelSpec, cluster: Cluster, global_batch: int, top: int = 5, anneal_top: int = 5, steps: int = 2000
) -> list[Candidate]:
    """Configurations that fit, fastest first under Pipette's model, the best `anneal_top` with annealed
    node orders."""
    scored = []
    for plan in plans(model, cluster, global_batch):
        memory = peak_memory_gb(model, plan)
        if memory > cluster.gpu_memory_gb:
            continue
        for layout in LAYOUTS:
            identity = Placement(tuple(range(len(cluster.nodes))), layout)
            scored.append(Candidate(plan, identity, pipette_seconds(model, cluster, plan, identity), memory))
    if not scored:
        raise RetinueError(
            f"{model.name} fits nowhere on {cluster.gpus} GPUs of {cluster.gpu_memory_gb:g} GB at global batch "
            f"{global_batch}: every (tp, pp, dp, micro-batch) needs more memory"
        )
    scored.sort(key=lambda c: c.predicted_seconds)
    refined = []
    for candidate in scored[:anneal_top]:

        def cost(placement: Placement, plan: Parallelism = candidate.plan) -> float:
            return pipette_seconds(model, cluster, plan, placement)

        placement, seconds = anneal(cost, len(cluster.nodes), candidate.placement.layout, steps)
        refined.append(Candidate(candidate.plan, placement, seconds, candidate.memory_gb))
    ranked = sorted(refined, key=lambda c: c.predicted_seconds) + scored[anneal_top:]
    return ranked[:top]


def amp_search(model: ModelSpec, cluster: Cluster, global_batch: int, top: int = 5) -> list[Candidate]:
    """AMP-style: ranked by its own latency model, Megatron's rank order, no memory check."""
    scored = []
    for plan in plans(model, cluster, global_batch):
        placement = Placement(tuple(range(len(cluster.nodes))), "data")
        scored.append(
            Candidate(plan, placement, amp_seconds(model, cluster, plan, placement), peak_memory_gb(model, plan))
        )
    return sorted(scored, key=lambda c: c.predicted_seconds)[:top]


def megatron_heuristic(model: ModelSpec, cluster: Cluster, global_batch: int) -> Candidate:
    """Tensor parallel across a node's GPUs, the fewest pipeline stages that fit with micro-batch 1, the rest
    data parallel, Megatron's rank order on the nodes as listed."""
    tp = max(t for t in _divisors(cluster.gpus_per_node) if model.heads % t == 0)
    for plan in plans(model, cluster, global_batch):
        if plan.tp == tp and plan.micro_batch == 1 and peak_memory_gb(model, plan) <= cluster.gpu_memory_gb:
            placement = Placement(tuple(range(len(cluster.nodes))), "data")
            return Candidate(
                plan, placement, pipette_seconds(model, cluster, plan, placement), peak_memory_gb(model, plan)
            )
    raise RetinueError(f"Megatron's heuristic finds no configuration of {model.name} that fits")
