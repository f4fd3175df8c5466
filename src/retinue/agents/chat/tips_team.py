"""The tips team in chat: play a TextWorld game together.

The person types game commands; "hint" asks the agent for the next command and why (the actor, with the
tips this session has learned); when a game ends the introspector turns it into tips for the next one.
The game in progress is part of the session's state (its commands), so a reopened session replays it and
goes on; the tips live in the session's own namespace, which no other session reads.
"""

from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from retinue.agents.chat.assistant import last_question
from retinue.agents.chat.state import ChatContext, ChatState
from retinue.agents.tips import TipsContext, TipsSettings, notes
from retinue.agents.tips.actor import SAFE_COMMAND, STEM, guidance_text, situation
from retinue.agents.tips.episodes import play_step
from retinue.agents.tips.introspector import episode_facts, particulars, rewrite_tips
from retinue.envs.textworld import GameObservation, TextWorldEnv
from retinue.envs.textworld_suite import GameEntry
from retinue.llms.choice import OPTIONS_MARK, ChoicePrompt
from retinue.memory import namespaces
from retinue.prompts import load_prompts

USAGE = (
    "Say 'new game' to start one (or 'new game ID' for a particular one), then type game commands such as "
    "'open fridge'. 'hint' asks me for the next command and why; 'tips' shows what I have learned."
)
HINTS = ("hint", "suggest", "what should i do", "what now", "?")
CHAT_STEP_LIMIT = 200


def tips(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    ctx = runtime.context
    text = last_question(state).strip()
    lowered = text.lower().rstrip(".!")
    folder, entries = ctx.tools.tips()
    game: dict[str, Any] | None = state.get("game")  # type: ignore[assignment]
    if lowered.startswith(("new game", "play")):
        return _start(text, folder, entries, state)
    if lowered == "tips":
        learned = _learned(runtime)
        return _say("\n".join(f"- {t}" for t in learned) or "No tips yet: they come after a finished game.")
    if game is None or game.get("done"):
        return _say(USAGE)
    entry = entries[game["id"]]
    env, seen = _replay(folder, entry, [s["command"] for s in game["steps"]])
    try:
        if lowered in HINTS:
            return _hint(runtime, game, seen)
        return _play(runtime, game, env, text)
    finally:
        env.close()


def _start(text: str, folder: Path, entries: dict[str, GameEntry], state: ChatState) -> dict[str, Any]:
    wanted = text.split()[2] if text.lower().startswith("new game") and len(text.split()) > 2 else None
    if wanted is not None and wanted not in entries:
        return _say(f"There is no game {wanted!r}; games: {', '.join(entries)}.")
    played = int((state.get("game") or {}).get("number", 0))  # type: ignore[union-attr]
    ids = sorted(entries)
    entry = entries[wanted] if wanted else entries[ids[played % len(ids)]]
    env, seen = _replay(folder, entry, [])
    env.close()
    game = {"id": entry.id, "number": played + 1, "steps": [], "done": False}
    intro = (
        f"Game {entry.id} (level {entry.level}, {entry.max_score} points to score).\n{seen.objective}\n\n{seen.text}"
    )
    return {"messages": [AIMessage(intro, name="tips")], "game": game}


def _hint(runtime: Runtime[ChatContext], game: dict[str, Any], seen: GameObservation) -> dict[str, Any]:
    """The actor's advice: first why (in a sentence), then the command, picked with that in view."""
    ctx = runtime.context
    learned = _learned(runtime)
    prompts = load_prompts("retinue.agents.chat")
    text = prompts["tips_hint"].format(**situation(TipsSettings(), seen, game["steps"], guidance_text("tips", learned)))
    commands = seen.admissible or [SAFE_COMMAND]
    schema = {
        "type": "object",
        "properties": {"why": {"type": "string", "minLength": 1, "maxLength": 200}},
        "required": ["why"],
        "additionalProperties": False,
    }
    listed = text.replace(OPTIONS_MARK, ", ".join(commands))
    why = ctx.decide([HumanMessage(f"{listed}\n{prompts['tips_hint_why']}")], schema, default={"why": ""}, role="actor")
    reason = str(why.value["why"]).strip() or "(the model gave no reason)"
    pick = ChoicePrompt(
        [HumanMessage(f"{text}\n{prompts['tips_hint_pick'].format(why=reason)}")], commands, kind="text", stem=STEM
    )
    choice = ctx.choose(pick, default=SAFE_COMMAND if SAFE_COMMAND in commands else commands[0], role="actor")
    runtime.stream_writer({"step": {"agent": "actor", "text": f"{len(learned)} tips in mind"}})
    return _say(f"I would type: {choice.value}\nWhy: {reason}")


def _play(runtime: Runtime[ChatContext], game: dict[str, Any], env: TextWorldEnv, command: str) -> dict[str, Any]:
    record, after, done = play_step(env, command, len(game["steps"]) + 1)
    game = {**game, "steps": [*game["steps"], record], "done": done}
    lines = [after.text]
    if record["reward"]:
        lines.append(f"(+{record['reward']:g} points: {after.score} of {after.max_score})")
    if done:
        outcome = "You won!" if after.won else "You lost." if after.lost else "That is the step limit."
        lines.append(f"{outcome} Score {after.score} of {after.max_score} in {len(game['steps'])} steps.")
        learned = _introspect(runtime, game, after)
        if learned:
            lines.append("What I learned from this game:\n" + "\n".join(f"- {t}" for t in learned))
        lines.append("Say 'new game' to play another.")
    return {"messages": [AIMessage("\n".join(lines), name="tips")], "game": game}


def _introspect(runtime: Runtime[ChatContext], game: dict[str, Any], last: GameObservation) -> list[str]:
    ctx = runtime.context
    if runtime.store is None:
        return []
    team = TipsContext(llm=ctx.llm, usage=ctx.usage, llm_config=ctx.llm_config)
    facts = episode_facts(last, game["steps"], team.settings) | {"particulars": particulars("cross")}  # any game next
    learned = rewrite_tips(team, runtime.store, namespaces.chat_tips(ctx.session), "introspect", facts, {})
    runtime.stream_writer({"step": {"agent": "introspector", "text": f"{len(learned)} tips written"}})
    return learned


def _learned(runtime: Runtime[ChatContext]) -> list[str]:
    return notes.read(runtime.store, namespaces.chat_tips(runtime.context.session)) if runtime.store is not None else []


def _replay(folder: Path, entry: GameEntry, commands: list[str]) -> tuple[TextWorldEnv, GameObservation]:
    env = TextWorldEnv(entry.path(folder), CHAT_STEP_LIMIT)
    return env, env.replay(commands)


def _say(text: str) -> dict[str, Any]:
    return {"messages": [AIMessage(text, name="tips")]}
