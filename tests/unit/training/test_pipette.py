"""Pipette: cluster files, memory estimate, 1F1B simulator, annealing, search."""

import json
from pathlib import Path

import numpy as np
import pytest

from retinue.errors import RetinueError
from retinue.training.pipette.cluster import Cluster, load_cluster
from retinue.training.pipette.latency import pipette_seconds
from retinue.training.pipette.memory import OVERHEAD_BYTES, Parallelism, peak_memory_gb, stage_memory_bytes
from retinue.training.pipette.model import ModelSpec, preset
from retinue.training.pipette.placement import Placement
from retinue.training.pipette.search import anneal, exhaustive, pipette_search, plans
from retinue.training.pipette.simulator import one_f_one_b, simulate

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "pipette"
TINY = ModelSpec("tiny", layers=2, hidden=4, heads=2, vocab=10, seq_len=8)


def _cluster(matrix: list[list[float]], gpus_per_node: int = 8, memory: float = 80.0) -> Cluster:
    n = len(matrix)
    return Cluster(tuple(f"n{i}" for i in range(n)), np.asarray(matrix, dtype=float), gpus_per_node, memory)


def test_memory_estimate_by_hand() -> None:
    plan = Parallelism(tp=1, pp=1, dp=1, micro_batch=1, micro_batches=1)
    params = 2 * 12 * 4 * 4 + 10 * 4  # two GPT layers of 12 h^2, the embedding
    activations = 2 * 8 * 1 * 4 * (10 + 24 + 5 * 2 * 8 / 4)  # two layers, s b h (10 + 24/t + 5as/(ht))
    assert stage_memory_bytes(TINY, plan, 0) == 16 * params + activations + OVERHEAD_BYTES
    # Two stages, four micro-batches: stage 0 holds 2 in flight, one layer, and the embedding.
    two = Parallelism(tp=1, pp=2, dp=1, micro_batch=1, micro_batches=4)
    assert stage_memory_bytes(TINY, two, 0) == 16 * (12 * 16 + 40) + 2 * activations / 2 + OVERHEAD_BYTES
    assert peak_memory_gb(preset("gpt3-13b"), Parallelism(1, 1, 128, 1, 4)) > 200  # 13B states alone: 194 GiB


def test_1f1b_order() -> None:
    assert [(o.backward, o.micro_batch) for o in one_f_one_b(0, 3, 4)] == [
        (False, 0),
        (False, 1),
        (False, 2),
        (True, 0),
        (False, 3),
        (True, 1),
        (True, 2),
        (True, 3),
    ]


def test_simulator_matches_closed_forms() -> None:
    same_node = _cluster([[0.0]], gpus_per_node=8)
    plan = Parallelism(tp=2, pp=4, dp=1, micro_batch=1, micro_batches=8)
    placement = Placement((0,))
    # No communication: (m + p - 1)(f + b).
    assert simulate(TINY, same_node, plan, placement, forward=1, backward=2, activation_bytes=0) == (8 + 3) * 3
    # One micro-batch over 4 nodes, every link 1 GB/s, 1 GB a transfer: p (f + b) + 2 (p - 1) t.
    apart = _cluster([[0, 1, 1, 1], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]])
    plan = Parallelism(tp=8, pp=4, dp=1, micro_batch=1, micro_batches=1)
    seconds = simulate(TINY, apart, plan, Placement((0, 1, 2, 3)), forward=1, backward=2, activation_bytes=1e9)
    assert seconds == pytest.approx(4 * 3 + 2 * 3 * 1.0)


def _uneven(n: int, seed: int) -> Cluster:
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(2, 20, size=(n, n))
    return _cluster(((matrix + matrix.T) / 2).tolist())


def test_annealing_finds_the_optimum_of_small_instances() -> None:
    model = preset("gpt3-1.3b")
    identity_was_worse = []
    for seed in range(3):
        cluster = _uneven(6, seed)
        plan = Parallelism(tp=8, pp=6, dp=1, micro_batch=1, micro_batches=12)

        def cost(placement: Placement, cluster: Cluster = cluster, plan: Parallelism = plan) -> float:
            return pipette_seconds(model, cluster, plan, placement)

        _, optimum = exhaustive(cost, 6, "pipeline")
        _, found = anneal(cost, 6, "pipeline", steps=3000, seed=seed)
        assert found == pytest.approx(optimum)
        identity_was_worse.append(optimum < cost(Placement(tuple(range(6)), "pipeline")))
    assert any(identity_was_worse)  # so the annealer had something to find


def test_search_keeps_what_fits_and_says_when_nothing_does() -> None:
    cluster = _uneven(4, 0)
    model = preset("gpt3-2.7b")
    ranked = pipette_search(model, cluster, 64, top=5, steps=200)
    assert ranked and all(c.memory_gb <= cluster.gpu_memory_gb for c in ranked)
    assert [c.predicted_seconds for c in ranked] == sorted(c.predicted_seconds for c in ranked)
    assert all(
        p.tp * p.pp * p.dp == 32 and p.micro_batch * p.micro_batches * p.dp == 64 for p in plans(model, cluster, 64)
    )
    with pytest.raises(RetinueError, match="fits nowhere"):
        pipette_search(preset("gpt3-13b"), _cluster([[0.0]], memory=8.0), 8)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared pipette data is not beside the repository")
def test_the_measured_cluster_loads_as_gb_per_second() -> None:
    cluster = load_cluster(SHARED / "time_0.json")
    assert len(cluster.nodes) == 16 and cluster.gpus == 128
    off = cluster.bandwidth[~np.eye(16, dtype=bool)]
    assert 10 < off.min() <= off.max() < 25  # HDR InfiniBand, GB/s
    assert np.allclose(cluster.bandwidth, cluster.bandwidth.T)


def test_bad_cluster_files_are_named(tmp_path: Path) -> None:
    cases = {
        "not a square matrix": {"0": {"gpus": ["a", "b"], "bandwidth": [[1, 2, 3], [4, 5, 6]]}},
        "2 hosts but a 3-row": {"0": {"gpus": ["a", "b"], "bandwidth": [[1, 2, 3], [1, 2, 3], [1, 2, 3]]}},
        "positive": {"0": {"gpus": ["a", "b"], "bandwidth": [[0, -1], [1, 0]]}},
    }
    for message, data in cases.items():
        path = tmp_path / "c.json"
        path.write_text(json.dumps(data))
        with pytest.raises(RetinueError, match=message):
            load_cluster(path)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RetinueError, match="not JSON"):
        load_cluster(tmp_path / "bad.json")
