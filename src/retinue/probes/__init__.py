"""Skill probes for every role that makes a closed choice (`retinue probe --role ...`); see `core`."""

from pathlib import Path

from retinue.probes.core import (
    ProbeAnswer,
    ProbeCase,
    ProbePair,
    ask_pairs,
    orders,
    probe_metrics,
    summary_line,
    wilson,
)

ROLES = ("manager", "analyst", "planner", "reflector", "actor")


def probe_pairs(role: str, data: Path, home: Path, count: int, seed: int = 0) -> list[ProbePair]:
    """`count` case pairs for `role`, from the data root `data` (and games made under `home`)."""
    if role == "manager":
        from retinue.probes.fincon import manager_pairs

        return manager_pairs(data, count, seed)
    if role == "analyst":
        from retinue.probes.fincon import analyst_pairs

        return analyst_pairs(data, count, seed)
    if role in ("planner", "reflector"):
        from retinue.envs.knowledge_graph import KnowledgeGraph
        from retinue.probes.effiqa import planner_pairs, reflector_pairs

        kg = KnowledgeGraph.load(data / "metaqa" / "kb.txt")
        return (planner_pairs if role == "planner" else reflector_pairs)(data, kg, count, seed)
    if role == "actor":
        from retinue.probes.tips import actor_pairs

        return actor_pairs(home, count)
    raise ValueError(f"no probe for role {role!r}")


__all__ = [
    "ROLES",
    "ProbeAnswer",
    "ProbeCase",
    "ProbePair",
    "ask_pairs",
    "orders",
    "probe_metrics",
    "probe_pairs",
    "summary_line",
    "wilson",
]
