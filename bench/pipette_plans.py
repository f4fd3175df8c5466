"""Pipette vs AMP-style vs Megatron-LM's heuristic on the measured 16-node A100 cluster, per preset model.

For each model: the configuration each method picks (Pipette: memory-checked, node order annealed;
AMP-style: its own latency model with uniform bandwidth, no memory check; Megatron: tp = 8, the fewest
stages that fit, micro-batch 1), judged in the 1F1B discrete-event simulator; how many of each method's
top 5 exceed GPU memory; and Pipette's search time. Target: Pipette's choice never slower in the
simulator than the others, and no out-of-memory recommendation.

    python bench/pipette_plans.py [--cluster shared/data/pipette/time_0.json] [--global-batch 512] [--out DIR]
"""

import argparse
import time
from pathlib import Path

from _report import finish

from retinue.paths import data_root
from retinue.training.pipette.cluster import load_cluster
from retinue.training.pipette.model import PRESETS
from retinue.training.pipette.search import amp_search, megatron_heuristic, pipette_search
from retinue.training.pipette.simulator import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", type=Path, default=None)
    parser.add_argument("--global-batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cluster = load_cluster(args.cluster or data_root() / "pipette" / "time_0.json")
    report: dict[str, float] = {}
    never_slower, no_oom = True, True
    print(
        "| model | Pipette: choice, simulated s | AMP-style: choice, simulated s | Megatron: choice, simulated s "
        "| top-5 over memory (Pipette / AMP) | search s |"
    )
    print("|---|---|---|---|---|---:|")
    for name, model in PRESETS.items():
        started = time.perf_counter()
        pipette = pipette_search(model, cluster, args.global_batch, top=5, steps=args.steps)
        search = time.perf_counter() - started
        amp = amp_search(model, cluster, args.global_batch, top=5)
        megatron = megatron_heuristic(model, cluster, args.global_batch)
        chosen = {"pipette": pipette[0], "amp": amp[0], "megatron": megatron}
        simulated = {k: simulate(model, cluster, c.plan, c.placement) for k, c in chosen.items()}
        over = {
            k: sum(c.memory_gb > cluster.gpu_memory_gb for c in found)
            for k, found in (("pipette", pipette), ("amp", amp))
        }
        never_slower &= simulated["pipette"] <= min(simulated["amp"], simulated["megatron"]) * (1 + 1e-9)
        no_oom &= over["pipette"] == 0
        cells = [
            f"{chosen[k].plan.tp}/{chosen[k].plan.pp}/{chosen[k].plan.dp}, mb {chosen[k].plan.micro_batch}: "
            f"{simulated[k]:.3f}"
            for k in ("pipette", "amp", "megatron")
        ]
        print(f"| {name} | {' | '.join(cells)} | {over['pipette']} / {over['amp']} | {search:.1f} |")
        report |= {f"{name}_{k}_simulated_seconds": round(v, 4) for k, v in simulated.items()}
        report |= {f"{name}_amp_top5_over_memory": over["amp"], f"{name}_search_seconds": round(search, 2)}
    finish(report, "Pipette never slower in simulation, no OOM recommendation", never_slower and no_oom, args.out)


if __name__ == "__main__":
    main()
