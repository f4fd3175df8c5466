"""The Tips actor's examples: the next command in states of TextWorld games made for training.

Every state on the expert's trajectory is labelled with the walkthrough's next command. States off it
come from rollouts that deviate (DAgger-style): the walkthrough up to a seeded step, one seeded wrong
command (admissible, not among TextWorld's optimal commands from there), then up to `recovery_steps`
states labelled with TextWorld's `policy_commands`, the optimal commands from the current state, so that
the model learns to recover from a mistake. Only games of tw-cooking's train split are read: their foods
and recipes are not the test split's.
"""

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from retinue.agent_data.examples import Example
from retinue.agents.tips.actor import actor_prompt
from retinue.agents.tips.episodes import play_step
from retinue.agents.tips.state import StepRecord, TipsSettings
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.envs.textworld_suite import GameEntry, load_games
from retinue.errors import RetinueError

ROLE = "actor"


def actor_examples(
    games_dir: Path,
    *,
    deviations: int = 2,
    recovery_steps: int = 8,
    seed: int = 0,
    settings: TipsSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """Examples from every game of `games_dir` (a folder made by `games make --split train`): its expert
    states, then `deviations` seeded rollouts off the expert's path, each with its recovery."""
    settings = settings or TipsSettings()
    entries = load_games(games_dir)
    for entry in entries:
        if entry.split != "train":
            raise RetinueError(
                f"{entry.id} is a {entry.split or 'split-less'} game: training data comes only from games made "
                "with `retinue games make --split train`"
            )
    rng = random.Random(seed)
    for done, entry in enumerate(entries):
        env = TextWorldEnv(entry.path(games_dir), entry.step_limit, oracle=True)
        try:
            yield from _expert(env, entry, settings, seed)
            for number in range(deviations):
                yield from _recovery(env, entry, settings, seed, rng, number, recovery_steps)
        finally:
            env.close()
        if progress is not None:
            progress(done + 1, len(entries))


def _expert(env: TextWorldEnv, entry: GameEntry, settings: TipsSettings, seed: int) -> Iterator[Example]:
    seen = env.reset()
    steps: list[StepRecord] = []
    for command in list(env.walkthrough):
        if command not in seen.admissible:  # a walkthrough that does not fit the game: no more labels
            return
        yield from _example(settings, seen, steps, command, _provenance(entry, len(steps), "expert"), seed)
        record, seen, finished = play_step(env, command, len(steps) + 1)
        steps.append(record)
        if finished:
            return


def _recovery(
    env: TextWorldEnv,
    entry: GameEntry,
    settings: TipsSettings,
    seed: int,
    rng: random.Random,
    number: int,
    recovery_steps: int,
) -> Iterator[Example]:
    seen = env.reset()
    walkthrough = list(env.walkthrough)
    if not walkthrough:
        return
    steps: list[StepRecord] = []
    for command in walkthrough[: rng.randrange(len(walkthrough))]:
        record, seen, _ = play_step(env, command, len(steps) + 1)
        steps.append(record)
    wrong = [command for command in seen.admissible if command not in env.policy]
    if not wrong:
        return
    mistake = rng.choice(sorted(wrong))
    record, seen, finished = play_step(env, mistake, len(steps) + 1)
    steps.append(record)
    deviated_at = len(steps)
    for _ in range(recovery_steps):
        right = [command for command in env.policy if command in seen.admissible]
        if finished or not right:
            return
        provenance = _provenance(entry, len(steps), "recovery") | {
            "deviation": number,
            "mistake": mistake,
            "steps_since_mistake": len(steps) - deviated_at,
        }
        yield from _example(settings, seen, steps, right[0], provenance, seed)
        record, seen, finished = play_step(env, right[0], len(steps) + 1)
        steps.append(record)


def _example(
    settings: TipsSettings,
    seen: GameObservation,
    steps: list[StepRecord],
    command: str,
    provenance: dict[str, Any],
    seed: int,
) -> Iterator[Example]:
    """The example of this state, unless it has one command only (the seam takes it without asking)."""
    prompt = actor_prompt(settings, "none", list(steps), [], seen)
    if len(prompt.options) > 1:
        yield Example.of_choice(ROLE, prompt, command, provenance, seed)


def _provenance(entry: GameEntry, step: int, kind: str) -> dict[str, Any]:
    return {
        "game": entry.id,
        "level": entry.level,
        "split": entry.split,
        "seed": entry.seed,
        "fingerprint": entry.fingerprint,
        "step": step,
        "kind": kind,
    }
