"""Skill probes: counterfactual cases with a known right answer, asked of a role as the agent asks it.

A probe is a list of pairs: a case and its flipped twin (the same situation with the evidence turned
round, so that the right answer changes). Each case is asked in several orders of its options (rotations
of a seeded order, so that every option moves), through the same prompt and choice the agent uses.

- accuracy: the share of cases answered right in their first order, with a 95 % Wilson interval, against
  chance (the mean share of right options);
- position_bias_rate: the share of cases whose pick stays at the same position in every order (so the
  option changes with the order): 1.0 for a model that always picks the first option shown, 0.0 for one
  that picks the same option whatever the order;
- flip_rate: the share of pairs whose picks differ between the case and its twin (first order): 1.0 for
  a model that reads the evidence, 0.0 for one that ignores it;
- overconfidence: the mean probability the model gave its picks minus its accuracy.

Skill is shown when the interval's lower end is above chance; otherwise the report says "no skill shown".
"""

import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from retinue.llms.choice import Choice
from retinue.runs.context import RunContext

ORDERS = 3  # orders each case is asked in
Z95 = 1.959964


@dataclass(frozen=True)
class ProbeCase:
    """One situation: its options, the right ones, and how the role is asked (with a given order)."""

    name: str
    options: tuple[str, ...]
    correct: frozenset[str]
    ask: Callable[[RunContext, Sequence[str]], Choice]
    evidence: str = ""  # what the case shows, for the answers file


@dataclass(frozen=True)
class ProbePair:
    case: ProbeCase
    flipped: ProbeCase


@dataclass(frozen=True)
class ProbeAnswer:
    """A case asked in one order."""

    case: str
    order: tuple[str, ...]
    value: str
    position: int
    confidence: float
    valid: bool
    right: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "order": list(self.order),
            "value": self.value,
            "position": self.position,
            "confidence": round(self.confidence, 4),
            "valid": self.valid,
            "right": self.right,
        }


def orders(case: ProbeCase, count: int = ORDERS, seed: int = 0) -> list[tuple[str, ...]]:
    """`count` orders of the case's options (at most one per option): rotations of a seeded order, spread
    so that every option is shown at another position in each."""
    base = list(case.options)
    random.Random(f"{seed}:{case.name}").shuffle(base)
    count = min(count, len(base))
    shifts = sorted({round(k * len(base) / count) for k in range(count)})
    return [tuple(base[s:] + base[:s]) for s in shifts]


def ask_pairs(ctx: RunContext, pairs: Sequence[ProbePair], count: int = ORDERS, seed: int = 0) -> Iterator[ProbeAnswer]:
    """Every case of `pairs` (case, then twin) in each of its orders."""
    for pair in pairs:
        for case in (pair.case, pair.flipped):
            for order in orders(case, count, seed):
                choice = case.ask(ctx, order)
                yield ProbeAnswer(
                    case=case.name,
                    order=order,
                    value=choice.value,
                    position=order.index(choice.value) + 1 if choice.value in order else 0,
                    confidence=choice.confidence,
                    valid=choice.valid,
                    right=choice.value in case.correct,
                )


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def probe_metrics(pairs: Sequence[ProbePair], answers: Sequence[ProbeAnswer]) -> dict[str, Any]:
    """metrics.json of a probe (see the module doc)."""
    by_case: dict[str, list[ProbeAnswer]] = {}
    for answer in answers:
        by_case.setdefault(answer.case, []).append(answer)
    cases = [case for pair in pairs for case in (pair.case, pair.flipped)]
    first = {case.name: by_case[case.name][0] for case in cases}
    right = sum(first[c.name].right for c in cases)
    low, high = wilson(right, len(cases))
    chance = sum(len(c.correct) / len(c.options) for c in cases) / len(cases)
    moved = [a for c in cases if len(a := by_case[c.name]) >= 2]
    biased = sum(len({x.position for x in a}) == 1 for a in moved)
    flips = sum(first[p.case.name].value != first[p.flipped.name].value for p in pairs)
    picks = Counter(a.value for a in answers)
    return {
        "cases": len(cases),
        "pairs": len(pairs),
        "asked": len(answers),
        "accuracy": round(right / len(cases), 4),
        "accuracy_ci_low": round(low, 4),
        "accuracy_ci_high": round(high, 4),
        "chance": round(chance, 4),
        "skill_shown": low > chance,
        "position_bias_rate": round(biased / len(moved), 4) if moved else 0.0,
        "flip_rate": round(flips / len(pairs), 4),
        "fallback_rate": round(sum(not a.valid for a in answers) / len(answers), 4),
        "mean_confidence": round(sum(a.confidence for a in answers) / len(answers), 4),
        # how far the model's own probabilities overstate its accuracy: a control decision that trusts
        # them (EffiQA's plan_lock) needs this near 0
        "overconfidence": round(sum(a.confidence for a in answers) / len(answers) - right / len(cases), 4),
        "most_picked": picks.most_common(1)[0][0],
        "most_picked_share": round(picks.most_common(1)[0][1] / len(answers), 4),
    }


def summary_line(role: str, metrics: dict[str, Any]) -> str:
    """One line for a results table: accuracy with its interval against chance, and the verdict."""
    verdict = "skill shown" if metrics["skill_shown"] else "no skill shown"
    return (
        f"{role}: {verdict} (accuracy {metrics['accuracy']:.2f} [{metrics['accuracy_ci_low']:.2f}, "
        f"{metrics['accuracy_ci_high']:.2f}] vs chance {metrics['chance']:.2f}; position bias "
        f"{metrics['position_bias_rate']:.2f}; flip rate {metrics['flip_rate']:.2f}; {metrics['cases']} cases)"
    )
