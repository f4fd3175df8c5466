"""A GPU cluster as Pipette sees it: nodes, GPUs per node, GPU memory, and measured link bandwidths.

The inter-node matrix comes from mpiGraph in the format of `shared/data/pipette/time_*.json`:
`{"0": {"gpus": [hosts], "bandwidth": n x n MB/s}, "1": {...}}`, "0" the receive matrix, "1" the send
matrix. A pipeline stage sends activations forward and receives gradients back over the same pair of
nodes, so a link's usable bandwidth is the smaller of its two directions as either matrix saw them:
bandwidth(i, j) = min(send[i][j], send[j][i], receive[i][j], receive[j][i]).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retinue.errors import RetinueError

DEFAULT_INTRA_NODE_GBPS = 300.0  # NVLink 3 on an A100 node, per direction, GB/s


@dataclass(frozen=True)
class Cluster:
    """`bandwidth[i, j]` is the inter-node bandwidth between nodes i and j in GB/s (diagonal unused)."""

    nodes: tuple[str, ...]
    bandwidth: np.ndarray
    gpus_per_node: int = 8
    gpu_memory_gb: float = 80.0
    intra_node_gbps: float = DEFAULT_INTRA_NODE_GBPS
    gpu_tflops: float = 312.0  # A100 dense fp16/bf16 peak
    efficiency: float = 0.45  # achieved share of the peak in transformer layers

    def __post_init__(self) -> None:
        n = len(self.nodes)
        if self.bandwidth.shape != (n, n):
            raise RetinueError(f"the bandwidth matrix is {self.bandwidth.shape}, not {n} x {n} for {n} nodes")
        off = self.bandwidth[~np.eye(n, dtype=bool)]
        if n > 1 and not (np.isfinite(off).all() and (off > 0).all()):
            raise RetinueError("every inter-node bandwidth must be a positive number")
        if self.gpus_per_node < 1 or self.gpu_memory_gb <= 0:
            raise RetinueError("a node needs at least one GPU with some memory")

    @property
    def gpus(self) -> int:
        return len(self.nodes) * self.gpus_per_node

    def link(self, a: int, b: int) -> float:
        """GB/s between nodes a and b; inside one node, NVLink."""
        return self.intra_node_gbps if a == b else float(self.bandwidth[a, b])


def _matrix(part: object, path: Path, name: str) -> tuple[list[str], np.ndarray]:
    if not isinstance(part, dict) or "gpus" not in part or "bandwidth" not in part:
        raise RetinueError(f"{path}: part {name!r} needs 'gpus' and 'bandwidth'")
    hosts = [str(h) for h in part["gpus"]]
    try:
        matrix = np.asarray(part["bandwidth"], dtype=np.float64)
    except (TypeError, ValueError):
        raise RetinueError(f"{path}: part {name!r} bandwidth is not a numeric matrix") from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise RetinueError(f"{path}: part {name!r} bandwidth is not a square matrix (shape {matrix.shape})")
    if matrix.shape[0] != len(hosts):
        raise RetinueError(f"{path}: part {name!r} has {len(hosts)} hosts but a {matrix.shape[0]}-row matrix")
    return hosts, matrix


def load_cluster(path: Path, gpus_per_node: int = 8, gpu_memory_gb: float = 80.0) -> Cluster:
    """A cluster from an mpiGraph bandwidth file (MB/s), as GB/s."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RetinueError(f"cluster file not found: {path}") from None
    except ValueError as error:
        raise RetinueError(f"{path} is not JSON: {error}") from None
    if not isinstance(data, dict) or not data:
        raise RetinueError(f'{path}: expected {{"0": {{"gpus": [...], "bandwidth": [[...]]}}, "1": ...}}')
    parts = [_matrix(part, path, name) for name, part in sorted(data.items())]
    hosts = parts[0][0]
    if any(h != hosts for h, _ in parts):
        raise RetinueError(f"{path}: the parts list different hosts")
    stacked = np.stack([m for _, m in parts] + [m.T for _, m in parts])
    return Cluster(tuple(hosts), stacked.min(axis=0) / 1000.0, gpus_per_node, gpu_memory_gb)
