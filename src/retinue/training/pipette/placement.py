"""Where each pipeline stage of each data-parallel replica runs.

A *unit* is the tp GPUs of one stage of one replica (tp divides the GPUs of a node, so a unit never
spans nodes). The `node_order` lists the cluster's nodes; units fill them in that order, gpus_per_node /
tp units per node. The `layout` says how (replica r, stage s) maps to unit indices:
- "pipeline": r * pp + s, a replica's stages side by side (pipeline traffic mostly inside nodes);
- "data": s * dp + r, a stage's replicas side by side (Megatron-LM's rank order: the gradient
  all-reduce mostly inside nodes).
The search tries both layouts and, for the best configurations, anneals the node order.
"""

from dataclasses import dataclass

from retinue.training.pipette.cluster import Cluster
from retinue.training.pipette.memory import Parallelism

LAYOUTS = ("pipeline", "data")


@dataclass(frozen=True)
class Placement:
    node_order: tuple[int, ...]
    layout: str = "pipeline"

    def unit(self, plan: Parallelism, replica: int, stage: int) -> int:
        return replica * plan.pp + stage if self.layout == "pipeline" else stage * plan.dp + replica

    def node(self, cluster: Cluster, plan: Parallelism, replica: int, stage: int) -> int:
        units_per_node = cluster.gpus_per_node // plan.tp
        return self.node_order[self.unit(plan, replica, stage) // units_per_node]

    def stage_nodes(self, cluster: Cluster, plan: Parallelism) -> list[list[int]]:
        """nodes[r][s]: the node of stage s of replica r."""
        return [[self.node(cluster, plan, r, s) for s in range(plan.pp)] for r in range(plan.dp)]

    def megatron_ranks(self, cluster: Cluster, plan: Parallelism) -> list[tuple[str, int]]:
        """(host, local GPU) of each Megatron-LM rank, whose order is tp fastest, then dp, then pp."""
        ranks: list[tuple[str, int]] = []
        for stage in range(plan.pp):
            for replica in range(plan.dp):
                unit = self.unit(plan, replica, stage)
                units_per_node = cluster.gpus_per_node // plan.tp
                host = cluster.nodes[self.node_order[unit // units_per_node]]
                first_gpu = (unit % units_per_node) * plan.tp
                ranks.extend((host, first_gpu + t) for t in range(plan.tp))
        return ranks
