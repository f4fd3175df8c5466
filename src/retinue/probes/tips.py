"""Probe cases for the Tips actor, from TextWorld cooking games of the valid split (levels 1 and 2).

A case is a state on the expert's trajectory just before a walkthrough command that scores a point: the
actor sees what it would see there (the goal, the steps so far, the game's last answer, the room, the
inventory) and every admissible command; the right answer is that walkthrough command. Its twin is the
next scoring state of the same game, whose right command is another. The games are made once under
RETINUE_HOME (split valid, seed 2: neither the results' train games, seed 0, nor their test games, seed 1).
"""

from collections.abc import Sequence
from pathlib import Path

from retinue.agents.tips.actor import SAFE_COMMAND, command_prompt
from retinue.agents.tips.state import StepRecord, TipsContext
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.envs.textworld_suite import make_games
from retinue.errors import RetinueError
from retinue.llms.choice import Choice
from retinue.probes.core import ProbeCase, ProbePair
from retinue.runs.context import RunContext

SPLIT, SEED, LEVELS = "valid", 2, (1, 2)
PAIRS_PER_GAME = 2


def _case(name: str, steps: list[StepRecord], seen: GameObservation, right: str) -> ProbeCase:
    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        actor = TipsContext(llm=ctx.llm, usage=ctx.usage, llm_config=ctx.llm_config, method="none")
        prompt = command_prompt(actor, {"steps": steps, "guidance": []}, seen)
        default = SAFE_COMMAND if SAFE_COMMAND in seen.admissible else seen.admissible[0]
        return ctx.choose(prompt, default=default, role="actor", order=order)

    evidence = f"{len(steps)} steps played; last answer: {seen.text[:160]}"
    return ProbeCase(name, tuple(seen.admissible), frozenset([right]), ask, evidence=evidence)


def _scoring_states(game: Path) -> list[tuple[list[StepRecord], GameObservation, str]]:
    """(steps so far, what is seen, the scoring walkthrough command) before each scoring step."""
    env = TextWorldEnv(game)
    try:
        seen = env.reset()
        found: list[tuple[list[StepRecord], GameObservation, str]] = []
        steps: list[StepRecord] = []
        for number, command in enumerate(list(env.walkthrough), start=1):
            before = seen
            seen, reward, _, info = env.step(command)
            if reward > 0 and command in before.admissible:
                found.append((list(steps), before, command))
            steps.append(
                StepRecord(
                    step=number,
                    command=command,
                    observation=seen.text,
                    score=seen.score,
                    reward=reward,
                    admissible=bool(info["admissible"]),
                    fallback=False,
                )
            )
        return found
    finally:
        env.close()


def actor_pairs(home: Path, count: int) -> list[ProbePair]:
    """`count` actor pairs from consecutive scoring states of the probe games (made when missing)."""
    per_level = -(-count // (PAIRS_PER_GAME * len(LEVELS)))
    folder = home / "probes" / f"games-{SPLIT}-seed{SEED}"
    entries = make_games(LEVELS, SPLIT, per_level, SEED, folder)
    pairs: list[ProbePair] = []
    for entry in entries:
        states = _scoring_states(entry.path(folder))
        for first, second in list(zip(states[::2], states[1::2], strict=False))[:PAIRS_PER_GAME]:
            number = len(pairs)
            pairs.append(
                ProbePair(
                    _case(f"actor-{number}-{entry.id}-step{len(first[0]) + 1}", *first),
                    _case(f"actor-{number}-{entry.id}-step{len(second[0]) + 1}", *second),
                )
            )
            if len(pairs) == count:
                return pairs
    raise RetinueError(f"only {len(pairs)} actor pairs could be made from {folder}; {count} wanted")
