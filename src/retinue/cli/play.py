"""`retinue play GAME.z8`: a person plays a TextWorld game in the terminal; the agent helps on request."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    ModelOptions,
    err,
    out,
    with_model_options,
)
from retinue.errors import RetinueError
from retinue.llms.failures import endpoint_failures_explained

HELP = """commands: type a game command (e.g. "open fridge"), or
  /hint      the agent's next command and its tips
  /tips      the tips the agent plays with
  /commands  the admissible commands now
  /help      this text
  /quit      leave the game"""
HUMAN_STEP_LIMIT = 1000


@with_model_options
def play(
    game: Annotated[Path, typer.Argument(help="A .z8 game made by `retinue games make` (its .json beside it).")],
    tips_from: Annotated[
        Path | None, typer.Option(help="A run directory of `eval tips` whose learned tips the agent uses.")
    ] = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Play a TextWorld game in the terminal. /hint asks the agent (the embedded model by default) for
    the next command, given its tips; /tips shows them."""
    from dataclasses import asdict

    from retinue.agents.tips.actor import llm_command
    from retinue.envs.textworld import TextWorldEnv
    from retinue.envs.textworld_suite import load_games
    from retinue.llms import UsageRecorder
    from retinue.scenarios.tips import TipsScenario, tips_context

    entry = load_games(game)[0]
    tips = _learned_tips(tips_from, entry.id) if tips_from is not None else []
    llm_config = models.settings()
    env = TextWorldEnv(game, HUMAN_STEP_LIMIT)
    seen = env.reset()
    scenario = TipsScenario(games={entry.id: {**asdict(entry), "path": str(game.resolve())}}, method="tips")
    context: Any = None
    steps: list[dict[str, Any]] = []
    # The game's first text opens with its objective; show the objective alone only when it does not.
    if not seen.text.lstrip().startswith(seen.objective.strip()):
        out.print(f"[bold]{escape(seen.objective)}[/bold]\n", highlight=False)
    out.print(seen.text, markup=False, highlight=False)
    err.print("(/help for commands)")
    try:
        while True:
            try:
                line = input(f"\n[{seen.score}/{seen.max_score}] > ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            if line == "/help":
                out.print(HELP, markup=False, highlight=False)
            elif line == "/commands":
                out.print(", ".join(seen.admissible), markup=False, highlight=False)
            elif line == "/tips":
                out.print("\n".join(f"- {t}" for t in tips) or "no tips (give --tips-from RUN_DIR)", markup=False)
            elif line == "/hint":
                if context is None:
                    context = tips_context(scenario, llm_config, UsageRecorder())
                work: Any = {"plan": {"game": entry.id}, "steps": steps, "guidance": tips}
                try:
                    with endpoint_failures_explained("the game goes on without a suggestion"):
                        command, fallback = llm_command(context, work, seen)
                except RetinueError as error:
                    err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
                    continue
                note = " (the model failed; safe default)" if fallback else ""
                out.print(f"agent suggests: {command}{note}", markup=False, highlight=False)
            elif line.startswith("/"):
                out.print(f"unknown command {line!r}\n{HELP}", markup=False, highlight=False)
            else:
                seen, reward, done, info = env.step(line)
                steps.append({"command": line, "observation": seen.text})
                suffix = "" if info["admissible"] else "  (not an admissible command)"
                out.print(seen.text + suffix, markup=False, highlight=False)
                if reward:
                    out.print(f"+{reward:g} points", highlight=False)
                if done:
                    outcome = "You won!" if seen.won else "You lost." if seen.lost else "Step limit reached."
                    out.print(f"{outcome} Score {seen.score} of {seen.max_score} in {env.steps} steps.")
                    break
    finally:
        env.close()


def _learned_tips(run_dir: Path, game_id: str) -> list[str]:
    from retinue.agents.tips import notes
    from retinue.runs.directory import RunDirectory
    from retinue.runs.execute import open_run_store

    run = RunDirectory.open(run_dir, command="eval tips")
    if not run.store_path.exists():
        raise RetinueError(f"{run_dir}: the run has no store (did it play?)")
    with open_run_store(run) as store:
        return notes.for_game(store, "tips", game_id, None)
