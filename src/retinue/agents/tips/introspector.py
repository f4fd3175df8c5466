"""Learning between episodes: introspection into tips, Reflexion's reflections, raw trajectories.

- tips: the introspector reads the trajectory (with score gains and outcome) and the tips it already has,
  and writes at most K short, general tips that replace them (own: per game; cross: globally).
- reflexion: after a failed episode, a reflection on this attempt is added (at most N kept).
- raw: the trajectory itself, as commands and score gains, is kept for the next prompts.
- expert setting: before play, each train game's walkthrough is played and distilled into tips (tips) or
  kept as a raw demonstration (raw), in its level's namespace.
"""

import time
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from retinue.agents.tips import notes
from retinue.agents.tips.actor import GUIDANCE_KIND, PROMPTS, first_line
from retinue.agents.tips.episodes import current_episode, observation_of, play_step
from retinue.agents.tips.state import (
    EpisodeResult,
    EpisodeWork,
    StepRecord,
    TipsContext,
    TipsSettings,
    TipsState,
)
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.memory import namespaces
from retinue.prompts import load_prompts
from retinue.runs.context import report_progress

TIP_CHARS = 160


def review_episode(state: TipsState, runtime: Runtime[TipsContext]) -> dict[str, Any]:
    """Close the episode in hand: learn from it if the schedule says so, and record it."""
    ctx = runtime.context
    work = current_episode(state)
    plan = work["plan"]
    learned = learn(ctx, runtime.store, work) if plan["learn"] and runtime.store is not None else []
    last = observation_of(work)
    steps = work.get("steps", [])
    result = EpisodeResult(
        game=plan["game"],
        level=ctx.games[plan["game"]].level,
        trial=plan["trial"],
        phase=plan["phase"],
        score=last.score,
        max_score=last.max_score,
        normalized_score=round(last.score / last.max_score, 6) if last.max_score else 0.0,
        won=last.won,
        lost=last.lost,
        steps=len(steps),
        invalid_actions=sum(1 for s in steps if s["fallback"] or not s["admissible"]),
        llm_calls=work.get("llm_calls", 0),
        tokens=work.get("tokens", 0),
        seconds=round(time.time() - work["started"], 3),
        guidance=work.get("guidance", []),
        learned=learned,
        trajectory=steps,
    )
    ctx.live.stop(plan["game"])
    return {"current": None, "episodes": [result]}


def after_review(state: TipsState) -> str:
    return "start_episode" if len(state["episodes"]) < len(state["schedule"]) else "__end__"


def learn(ctx: TipsContext, store: BaseStore, work: EpisodeWork) -> list[str]:
    """What the method learns from the finished episode; returns what it wrote."""
    game = work["plan"]["game"]
    kind = GUIDANCE_KIND.get(ctx.method)
    if kind is None:
        return []
    scope = namespaces.tips_global(kind) if ctx.setting == "cross" else namespaces.tips_game(kind, game)
    steps = work.get("steps", [])
    if ctx.method == "raw":
        note = trajectory_text(steps, ctx.settings.trajectory_steps, feedback=False)
        notes.append(store, scope, note, keep=2)
        return [note]
    last = observation_of(work)
    facts = episode_facts(last, steps, ctx.settings)
    if ctx.method == "reflexion":
        if last.won:
            return []
        reflection = _reflect(ctx, work, facts)
        if reflection:
            notes.append(store, scope, reflection, keep=ctx.settings.reflections_kept)
        return [reflection] if reflection else []
    return rewrite_tips(ctx, store, scope, "introspect", facts | {"particulars": particulars(ctx.setting)}, work)


def particulars(setting: str) -> str:
    """What the introspector is told about naming this game's items: its tips are read again in the same game
    (`own`, `expert`'s own trials) or in other games (`cross`)."""
    return load_prompts(PROMPTS)["particulars_cross" if setting == "cross" else "particulars_own"]


def study_demonstration(state: TipsState, runtime: Runtime[TipsContext]) -> dict[str, Any]:
    """Expert setting: play the next train game's walkthrough and learn from it (tips or raw)."""
    ctx = runtime.context
    index = state["studied"]
    game = state["demonstrations"][index]
    report_progress(runtime.stream_writer, "demonstrations", index + 1, len(state["demonstrations"]))
    entry = ctx.games[game]
    env = TextWorldEnv(ctx.paths[game], entry.step_limit)
    try:
        first = env.reset()
        steps = [play_step(env, command, number)[0] for number, command in enumerate(env.walkthrough, start=1)]
    finally:
        env.close()
    if runtime.store is not None:
        kind = GUIDANCE_KIND[ctx.method]
        scope = namespaces.tips_level(kind, entry.level)
        if ctx.method == "raw":
            notes.append(runtime.store, scope, trajectory_text(steps, ctx.settings.trajectory_steps, False), keep=2)
        else:
            facts = {"objective": first.objective, "trajectory": trajectory_text(steps, ctx.settings.trajectory_steps)}
            rewrite_tips(ctx, runtime.store, scope, "study", facts, {})
    return {"studied": index + 1}


def before_play(state: TipsState) -> str:
    """From the start (and after each demonstration): study the next one, play, or stop."""
    if state["studied"] < len(state["demonstrations"]):
        return "study_demonstration"
    if state["current"] is not None:
        return "act"
    return "start_episode" if len(state["episodes"]) < len(state["schedule"]) else "__end__"


def episode_facts(last: GameObservation, steps: list[StepRecord], settings: TipsSettings) -> dict[str, Any]:
    """What the introspector and Reflexion are told about a finished episode."""
    return {
        "objective": last.objective,
        "outcome": "won" if last.won else "lost" if last.lost else "ran out of steps",
        "score": last.score,
        "max_score": last.max_score,
        "steps": len(steps),
        "trajectory": trajectory_text(steps, settings.trajectory_steps),
    }


def trajectory_text(steps: list[StepRecord], limit: int, feedback: bool = True) -> str:
    """The last `limit` steps, one per line: "> command: what the game answered (+points)"."""
    lines = []
    for record in steps[-limit:]:
        gained = f" (+{record['reward']:g})" if record["reward"] else ""
        answer = f": {first_line(record['observation'], 100)}" if feedback else ""
        lines.append(f"> {record['command']}{answer}{gained}")
    skipped = f"(... {len(steps) - limit} earlier steps)\n" if len(steps) > limit else ""
    return skipped + "\n".join(lines)


def rewrite_tips(
    ctx: TipsContext, store: BaseStore, scope: tuple[str, ...], prompt: str, facts: dict[str, Any], charge: Any
) -> list[str]:
    """Ask for the merged tips and make them the namespace's content; a failed decision keeps the old ones."""
    existing = notes.read(store, scope)
    k = ctx.settings.max_tips
    decision = ctx.decide(
        tips_request(prompt, k, existing, facts), tips_schema(k), default={"tips": existing}, role="introspector",
        charge_to=charge,
    )  # fmt: skip
    tips = list(dict.fromkeys(t.strip() for t in decision.value["tips"] if t.strip()))[:k]
    if decision.valid and tips:
        notes.replace(store, scope, tips)
        return tips
    return []


def tips_schema(k: int) -> dict[str, Any]:
    """The introspector's reply: one to `k` tips of at most `TIP_CHARS` characters."""
    return {
        "type": "object",
        "properties": {
            "tips": {
                "type": "array",
                "items": {"type": "string", "minLength": 10, "maxLength": TIP_CHARS},
                "minItems": 1,
                "maxItems": k,
            }
        },
        "required": ["tips"],
        "additionalProperties": False,
    }


def tips_request(prompt: str, k: int, existing: list[str], facts: dict[str, Any]) -> list[BaseMessage]:
    """The request for merged tips (`introspect` after an episode, `study` of a demonstration): what the
    introspector and its training examples are both shown."""
    text = load_prompts(PROMPTS)[prompt].format(
        max_tips=k, tips="\n".join(f"- {t}" for t in existing) or "(none yet)", **facts
    )
    return [HumanMessage(text)]


def _reflect(ctx: TipsContext, work: EpisodeWork, facts: dict[str, Any]) -> str:
    schema = {
        "type": "object",
        "properties": {"reflection": {"type": "string", "minLength": 10, "maxLength": 300}},
        "required": ["reflection"],
        "additionalProperties": False,
    }
    text = load_prompts(PROMPTS)["reflect"].format(**facts)
    decision = ctx.decide([HumanMessage(text)], schema, default={"reflection": ""}, role="reflexion", charge_to=work)  # type: ignore[arg-type]
    return str(decision.value["reflection"]).strip() if decision.valid else ""
