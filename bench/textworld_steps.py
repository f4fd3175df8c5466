"""Environment steps per second through retinue's TextWorld adapter vs raw `textworld.start`.

Both play the same games with the same `EnvInfos` (admissible commands, objective, description,
inventory, score, max score, win/lose, walkthrough): each episode resets the game and plays its
walkthrough, then random admissible commands up to the step limit. The two are interleaved episode by
episode so that machine noise hits both.
Target: adapter / raw >= 0.9.

    python bench/textworld_steps.py --games DIR [--episodes 20] [--steps 50] [--out DIR]
"""

import argparse
import random
import time
from pathlib import Path

import textworld
from _report import finish

from retinue.envs.textworld import TextWorldEnv, request_infos
from retinue.envs.textworld_suite import load_games


def raw_episode(path: Path, steps: int, seed: int) -> tuple[int, float]:
    env = textworld.start(str(path), request_infos=request_infos())
    draw = random.Random(seed)
    started = time.perf_counter()
    state = env.reset()
    commands = list(state["extra.walkthrough"])
    done, played = False, 0
    while played < steps:
        command = commands[played] if played < len(commands) else draw.choice(state["admissible_commands"])
        state, _, done = env.step(command)
        played += 1
        if done:
            state, done = env.reset(), False
    seconds = time.perf_counter() - started
    env.close()
    return played, seconds


def adapter_episode(path: Path, steps: int, seed: int) -> tuple[int, float]:
    env = TextWorldEnv(path, step_limit=10_000)
    draw = random.Random(seed)
    started = time.perf_counter()
    seen = env.reset()
    commands = list(env.walkthrough)
    played = 0
    while played < steps:
        command = commands[played] if played < len(commands) else draw.choice(seen.admissible)
        seen, _, done, _ = env.step(command)
        played += 1
        if done:
            seen = env.reset()
    seconds = time.perf_counter() - started
    env.close()
    return played, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=Path, required=True, help="A folder made by `retinue games make`.")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    games = [entry.path(args.games) for entry in load_games(args.games)]
    totals = {"raw": [0, 0.0], "adapter": [0, 0.0]}
    for episode in range(args.episodes):
        game = games[episode % len(games)]
        for name, play in (("raw", raw_episode), ("adapter", adapter_episode)):
            played, seconds = play(game, args.steps, episode)
            totals[name][0] += played
            totals[name][1] += seconds
    raw = totals["raw"][0] / totals["raw"][1]
    adapter = totals["adapter"][0] / totals["adapter"][1]
    report = {
        "raw_steps_per_second": round(raw, 1),
        "adapter_steps_per_second": round(adapter, 1),
        "ratio": round(adapter / raw, 3),
        "games": len(games),
        "episodes": args.episodes,
    }
    for key, value in report.items():
        print(f"{key}: {value}")
    finish(report, "adapter / raw >= 0.9", adapter / raw >= 0.9, args.out)


if __name__ == "__main__":
    main()
