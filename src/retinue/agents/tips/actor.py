"""Playing: start an episode, then one command per step from the actor (or a baseline).

The LLM actor sees the goal, what it has learned (tips, reflections or earlier playthroughs, by method),
its recent steps (each command with the game's whole answer, newest kept first, within a token budget),
the game's answer to its last command, the room it is in and what it carries, and picks one of the
admissible commands through the choice seam: every command is scored as the continuation of the prompt
(length-normalised), shown in an order that varies from step to step. When the model fails the safe
default is "look" (or the first admissible command).
"""

import random
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from retinue.agents.tips import notes
from retinue.agents.tips.episodes import current_episode, live_env, observation_of, play_step, start_work
from retinue.agents.tips.state import (
    EpisodePlan,
    EpisodeWork,
    StepRecord,
    TipsContext,
    TipsSettings,
    TipsState,
)
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.llms.choice import OPTIONS_MARK, ChoicePrompt
from retinue.prompts import load_prompts
from retinue.runs.context import report_progress

PROMPTS = "retinue.agents.tips"
SAFE_COMMAND = "look"
STEM = ">"  # the game's own prompt: a command follows it
CHARS_PER_TOKEN = 4  # the history's budget is counted in tokens estimated from characters
GUIDANCE_KIND = {"tips": "tips", "reflexion": "reflections", "raw": "trajectories"}  # what each method learns


def start_episode(state: TipsState, runtime: Runtime[TipsContext]) -> dict[str, Any]:
    """Reset the next scheduled game and fix what the actor is given for the whole episode."""
    ctx = runtime.context
    index = len(state["episodes"])
    report_progress(runtime.stream_writer, "episodes", index + 1, len(state["schedule"]))
    plan = state["schedule"][index]
    work = start_work(ctx, plan)
    work["guidance"] = guidance_notes(ctx, runtime.store, plan)
    return {"current": work}


def guidance_notes(ctx: TipsContext, store: Any, plan: EpisodePlan) -> list[str]:
    """What the method learned that applies to this game (nothing for none and the baselines)."""
    kind = GUIDANCE_KIND.get(ctx.method)
    if kind is None or store is None:
        return []
    return notes.for_game(store, kind, plan["game"], ctx.games[plan["game"]].level)


def act(state: TipsState, runtime: Runtime[TipsContext]) -> dict[str, Any]:
    """One step: choose a command, play it, record what the game answered."""
    ctx = runtime.context
    work = current_episode(state)
    env = live_env(ctx, work)
    seen = observation_of(work)
    number = len(work.get("steps", [])) + 1
    command, fallback = choose_command(ctx, work, seen, env, number)
    record, after, done = play_step(env, command, number, fallback)
    work["steps"] = [*work.get("steps", []), record]
    work["observation"] = after.to_dict()
    work["done"] = done
    return {"current": work}


def after_act(state: TipsState) -> str:
    return "review_episode" if (state["current"] or {}).get("done") else "act"


def choose_command(
    ctx: TipsContext, work: EpisodeWork, seen: GameObservation, env: TextWorldEnv, number: int
) -> tuple[str, bool]:
    """(command, whether it is a fallback) by the run's method."""
    plan = work["plan"]
    if ctx.method == "walkthrough":
        return (env.walkthrough[number - 1] if number <= len(env.walkthrough) else SAFE_COMMAND), False
    if not seen.admissible:
        return SAFE_COMMAND, False
    if ctx.method == "random":
        draw = random.Random(f"{ctx.settings.seed}:{plan['game']}:{plan['trial']}:{plan['phase']}:{number}")
        return draw.choice(seen.admissible), False
    return llm_command(ctx, work, seen)


def command_prompt(ctx: TipsContext, work: EpisodeWork, seen: GameObservation) -> ChoicePrompt:
    """The choice of the next command, as the actor (and its probe) poses it."""
    return actor_prompt(ctx.settings, ctx.method, work.get("steps", []), work.get("guidance", []), seen)


def actor_prompt(
    settings: TipsSettings, method: str, steps: list[StepRecord], guidance: list[str], seen: GameObservation
) -> ChoicePrompt:
    """The actor's choice from its parts: what the actor, its probe and its training data all pose."""
    text = load_prompts(PROMPTS)["actor"].format(**situation(settings, seen, steps, guidance_text(method, guidance)))
    return ChoicePrompt(messages=[HumanMessage(text)], options=list(seen.admissible), kind="text", stem=STEM)


def llm_command(ctx: TipsContext, work: EpisodeWork, seen: GameObservation) -> tuple[str, bool]:
    default = SAFE_COMMAND if SAFE_COMMAND in seen.admissible else seen.admissible[0]
    choice = ctx.choose(command_prompt(ctx, work, seen), default=default, role="actor", charge_to=work)  # type: ignore[arg-type]
    return choice.value, not choice.valid


def situation(settings: TipsSettings, seen: GameObservation, steps: list[StepRecord], guidance: str) -> dict[str, str]:
    """What a prompt about the next command shows: the goal, what was learned, the recent steps, the game's
    last answer, the room, the inventory, and where the admissible commands go (`OPTIONS_MARK`)."""
    return {
        "objective": seen.objective,
        "guidance": guidance,
        "history": history(steps, settings.history_tokens) or "(none yet)",
        "observation": seen.text[-settings.observation_chars :],
        "room": seen.description[-settings.observation_chars :] or "(not described)",
        "inventory": seen.inventory or "(unknown)",
        "commands": OPTIONS_MARK,
    }


def history(steps: list[StepRecord], budget_tokens: int) -> str:
    """The steps as "> command: the game's whole answer", oldest first, keeping the newest that fit in
    `budget_tokens` (estimated at `CHARS_PER_TOKEN` characters a token)."""
    lines: list[str] = []
    left = budget_tokens * CHARS_PER_TOKEN
    for record in reversed(steps):
        line = f"> {record['command']}: {' '.join(record['observation'].split())}"
        if len(line) > left:
            break
        lines.append(line)
        left -= len(line) + 1
    return "\n".join(reversed(lines))


def guidance_text(method: str, found: list[str]) -> str:
    kind = GUIDANCE_KIND.get(method)
    if kind is None or not found:
        return ""
    prompts = load_prompts(PROMPTS)
    if kind == "trajectories":
        return prompts["guidance_raw"].format(notes="\n\n".join(found))
    return prompts[f"guidance_{kind}"].format(notes="\n".join(f"- {note}" for note in found))


def first_line(text: str, limit: int = 120) -> str:
    """The first line of `text` that is not blank, cut at `limit` characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line[:limit]
