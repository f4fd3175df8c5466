"""The Tips actor's examples: the next command in states of TextWorld games made for training.

Every state on the expert's trajectory is labelled with the walkthrough's next command. States off it
come from rollouts that deviate (DAgger-style): the walkthrough up to a seeded step, one seeded wrong
command (admissible, not among TextWorld's optimal commands from there), then up to `recovery_steps`
states labelled with TextWorld's `policy_commands`, the optimal commands from the current state, so that
the model learns to recover from a mistake. Only games of tw-cooking's train split are read: their foods
and recipes are not the test split's.

Tips, as the `tips` method's second trial has them: each off-path rollout is a failed first attempt, and
`tips_from_play` writes what a player could learn from it (what scored, in order; what lost the game).
`tips_passes` of them go into the guidance of another pass along the expert's path (the actor learns to
use tips), and `introspector_examples` teach writing those tips from the attempt's trajectory, in the
introspector's own request.
"""

import json
import random
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retinue.agent_data.examples import Example
from retinue.agents.tips.actor import actor_prompt
from retinue.agents.tips.episodes import play_step
from retinue.agents.tips.introspector import TIP_CHARS, episode_facts, particulars, tips_request, tips_schema
from retinue.agents.tips.state import StepRecord, TipsSettings
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.envs.textworld_suite import GameEntry, load_games
from retinue.errors import RetinueError
from retinue.llms.structured import decision_messages

ROLE = "actor"
INTROSPECTOR = "introspector"


@dataclass(frozen=True)
class Attempt:
    """A rollout off the expert's path, taken as a failed first attempt at the game."""

    deviation: int
    mistake: str
    steps: list[StepRecord]
    last: GameObservation


def actor_examples(
    games_dir: Path,
    *,
    deviations: int = 2,
    recovery_steps: int = 8,
    tips_passes: int = 0,
    seed: int = 0,
    settings: TipsSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """Examples from every game of `games_dir` (a folder made by `games make --split train`): its expert
    states, then `deviations` seeded rollouts off the expert's path, each with its recovery, then
    `tips_passes` more passes along the expert's path with tips in the guidance: those of the first
    rollout, then of the first two, and so on (trial 2's tips, then trial 3's)."""
    settings = settings or TipsSettings()
    rng = random.Random(seed)
    for entry, env in _train_games(games_dir, progress):
        yield from _expert(env, entry, settings, seed)
        attempts = []
        for number in range(deviations):
            attempt = yield from _recovery(env, entry, settings, seed, rng, number, recovery_steps)
            attempts += [attempt] if attempt else []
        for passes in range(1, min(tips_passes, len(attempts)) + 1):  # the tips of trial 2, then of trial 3, ...
            if tips := tips_from_play(attempts[:passes], settings.max_tips):
                yield from _expert(env, entry, settings, seed, tips, passes)


def introspector_examples(
    games_dir: Path,
    *,
    deviations: int = 2,
    recovery_steps: int = 8,
    seed: int = 0,
    settings: TipsSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """The introspector's examples: for each off-path rollout of `actor_examples` (the same seeds, so the
    same rollouts), its request after that attempt (the tips of the game's attempt before it, if any, as
    the tips it already has) and, as the reply, `tips_from_play`'s tips of it and the attempts before it."""
    settings = settings or TipsSettings()
    rng = random.Random(seed)
    k = settings.max_tips
    for entry, env in _train_games(games_dir, progress):
        attempts: list[Attempt] = []
        existing: list[str] = []
        for number in range(deviations):
            attempt = _played(_recovery(env, entry, settings, seed, rng, number, recovery_steps))
            if attempt is None or not (tips := tips_from_play([*attempts, attempt], k)):
                continue
            attempts.append(attempt)
            facts = episode_facts(attempt.last, attempt.steps, settings) | {"particulars": particulars("own")}
            messages = decision_messages(tips_request("introspect", k, existing, facts), tips_schema(k))
            provenance = _provenance(entry, len(attempt.steps), "introspection") | {
                "deviation": number,
                "mistake": attempt.mistake,
                "tips_before": len(existing),
            }
            reply = json.dumps({"tips": tips}, ensure_ascii=False)
            yield Example.of_reply(INTROSPECTOR, messages, reply, provenance)
            existing = tips


def tips_from_play(attempts: Sequence[Attempt], k: int) -> list[str]:
    """What a player can learn from its own attempts at a game, as at most `k` tips of at most `TIP_CHARS`
    characters: each command that lost the game, then the commands that scored, in order (several to a
    tip), in the attempt that scored most (the latest of equals). Only what the trajectories show: the
    introspector, given the last attempt's trajectory and the tips of those before it, can learn to write
    it."""
    lost = [attempt.steps[-1]["command"] for attempt in attempts if attempt.last.lost and attempt.steps]
    tips = [f"Never type '{command}' in this game: it lost the game." for command in dict.fromkeys(reversed(lost))]
    best = max(reversed(attempts), key=lambda attempt: attempt.last.score, default=None)
    scored = list(dict.fromkeys(r["command"] for r in best.steps if r["reward"] > 0)) if best else []
    lead = "These commands scored, in this order:"
    line = lead
    for command in scored:
        quoted = f" '{command}',"
        if len(line) + len(quoted) > TIP_CHARS:
            tips.append(line.rstrip(",") + ".")
            lead = line = "Then these scored:"
        line += quoted
    if line != lead:
        tips.append(line.rstrip(",") + ".")
    return tips[:k]


def _train_games(
    games_dir: Path, progress: Callable[[int, int], None] | None
) -> Iterator[tuple[GameEntry, TextWorldEnv]]:
    """Each game of `games_dir` open with TextWorld's oracle (closed after its turn, progress counted),
    once all are known to be of the train split."""
    entries = load_games(games_dir)
    for entry in entries:
        if entry.split != "train":
            raise RetinueError(
                f"{entry.id} is a {entry.split or 'split-less'} game: training data comes only from games made "
                "with `retinue games make --split train`"
            )
    for done, entry in enumerate(entries):
        env = TextWorldEnv(entry.path(games_dir), entry.step_limit, oracle=True)
        try:
            yield entry, env
        finally:
            env.close()
        if progress is not None:
            progress(done + 1, len(entries))


def _played(rollout: Generator[Example, None, "Attempt | None"]) -> "Attempt | None":
    """Play a rollout through, dropping its examples; what it returns."""
    while True:
        try:
            next(rollout)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def _expert(
    env: TextWorldEnv,
    entry: GameEntry,
    settings: TipsSettings,
    seed: int,
    tips: list[str] | None = None,
    attempts: int = 0,
) -> Iterator[Example]:
    """The expert's states, labelled with the walkthrough's next command; with `tips` (of the first
    `attempts` rollouts) in the guidance, as the `tips` method's next trial shows them."""
    seen = env.reset()
    steps: list[StepRecord] = []
    kind = "expert" if tips is None else "expert_with_tips"
    extra = {} if tips is None else {"tips_from_attempts": attempts}
    for command in list(env.walkthrough):
        if command not in seen.admissible:  # a walkthrough that does not fit the game: no more labels
            return
        provenance = _provenance(entry, len(steps), kind) | extra
        yield from _example(settings, seen, steps, command, provenance, seed, tips)
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
) -> Generator[Example, None, Attempt | None]:
    """The examples of one rollout off the expert's path; it returns the rollout as an `Attempt` (None when
    the game has no walkthrough or no wrong command where it deviates)."""
    seen = env.reset()
    walkthrough = list(env.walkthrough)
    if not walkthrough:
        return None
    steps: list[StepRecord] = []
    for command in walkthrough[: rng.randrange(len(walkthrough))]:
        record, seen, _ = play_step(env, command, len(steps) + 1)
        steps.append(record)
    wrong = [command for command in seen.admissible if command not in env.policy]
    if not wrong:
        return None
    mistake = rng.choice(sorted(wrong))
    record, seen, finished = play_step(env, mistake, len(steps) + 1)
    steps.append(record)
    deviated_at = len(steps)
    for _ in range(recovery_steps):
        right = [command for command in env.policy if command in seen.admissible]
        if finished or not right:
            break
        provenance = _provenance(entry, len(steps), "recovery") | {
            "deviation": number,
            "mistake": mistake,
            "steps_since_mistake": len(steps) - deviated_at,
        }
        yield from _example(settings, seen, steps, right[0], provenance, seed)
        record, seen, finished = play_step(env, right[0], len(steps) + 1)
        steps.append(record)
    return Attempt(number, mistake, steps, seen)


def _example(
    settings: TipsSettings,
    seen: GameObservation,
    steps: list[StepRecord],
    command: str,
    provenance: dict[str, Any],
    seed: int,
    tips: list[str] | None = None,
) -> Iterator[Example]:
    """The example of this state, unless it has one command only (the seam takes it without asking)."""
    prompt = actor_prompt(settings, "tips" if tips else "none", list(steps), tips or [], seen)
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
