"""Chat with the agent teams: the config and the one place that assembles the sessions, the model and
each team's tools (loaded on the team's first turn), for `retinue chat` and `retinue serve` alike."""

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field
from rich.console import Console

from retinue.errors import RetinueError
from retinue.scenarios.base import ScenarioConfig


class ChatScenario(ScenarioConfig):
    """Chat sessions under RETINUE_HOME/chat with the assistant, EffiQA, FinCon and Tips teams."""

    command = "chat"

    kg: Path | None = Field(None, description="effiqa team: the knowledge graph (default: MetaQA's).")
    explorer: Path | None = Field(None, description="effiqa team: the plug-in model (default: the registered one).")
    data_dir: Path | None = Field(None, description="Data root (default: see paths.data_root).")
    games: Path | None = Field(None, description="tips team: games made by `games make` (default: three made once).")
    fincon_run: Path | None = Field(None, description="fincon team: start from this finished FinCon backtest.")


def open_sessions(config: ChatScenario, console: Console | None = None) -> Any:
    """The chat sessions with the configured model and each team's tools on demand (a `fincon_run` is
    checked now, not at the team's first turn). An embedded model with no name is agent-gemma, built on
    first use once the options are checked."""
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.paths import retinue_home
    from retinue.scenarios.chat_sessions import ChatSessions
    from retinue.training.lm.shipped import model_for_new_run

    console = console or Console(stderr=True)
    start = backtest_memory(config.fincon_run) if config.fincon_run else None
    llm = model_for_new_run(config.llm, console)
    usage = UsageRecorder()
    return ChatSessions(
        retinue_home() / "chat",
        run_chat_model(llm, usage),
        usage,
        llm,
        lambda: load_effiqa(config.kg, config.explorer, config.data_dir, console),
        load_fincon=lambda: load_fincon(config.data_dir, start),
        load_tips=lambda: load_games_for_chat(config.games, console),
    )


def load_games_for_chat(games: Path | None, console: Console | None = None) -> tuple[Path, dict[str, Any]]:
    """The tips team's games: `games`, else a few level-1 games made once under RETINUE_HOME/games/chat."""
    from retinue.envs.textworld_suite import MANIFEST, load_games, make_games
    from retinue.paths import retinue_home

    folder = games or retinue_home() / "games" / "chat"
    if games is None and not (folder / MANIFEST).exists():
        (console or Console(stderr=True)).print(
            "[dim]making three level-1 cooking games for the tips team (once, about 20 s)...[/dim]"
        )
        make_games([1], "train", 3, 0, folder)
    if not folder.is_dir():
        raise RetinueError(f"--games: {folder} is not a folder made by `retinue games make`")
    return folder, {entry.id: entry for entry in load_games(folder)}


def load_fincon(data_dir: Path | None, start: Any = None) -> Any:
    """The fincon team's FinconTools; `start` (a BacktestMemory) is the finished backtest it starts from."""
    from langgraph.store.memory import InMemoryStore

    from retinue.agents.chat.fincon_tools import FinconTools
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.graphs.fincon import build_fincon_day_graph
    from retinue.paths import data_root

    # The chat's backtests run baselines, which keep nothing in the store the backtest graph requires.
    backtests = build_backtest_graph().compile(store=InMemoryStore())
    return FinconTools(build_fincon_day_graph().compile(), backtests, data_root(data_dir), start)


def backtest_memory(folder: Path) -> Any:
    """The memory, trained beliefs and last day of a finished FinCon backtest (`retinue backtest --method
    fincon`), for the fincon team to start from."""
    from retinue.agents.chat.fincon_tools import BacktestMemory
    from retinue.jsonfiles import read_json
    from retinue.runs.directory import RunDirectory

    run = RunDirectory.open(folder, command="backtest")
    config = run.config()
    if config.get("method") != "fincon":
        raise RetinueError(f"--fincon-run: {folder} is a {config.get('method')} backtest, not a fincon one")
    if run.status() != "completed" or not run.store_path.is_dir():
        raise RetinueError(f"--fincon-run: {folder} has not finished (status {run.status()}); --resume it first")
    training = run.path / "training.json"
    beliefs = read_json(training, "training record").get("beliefs", {}) if training.exists() else {}
    return BacktestMemory(run.path, run.store_path, dict(beliefs), date.fromisoformat(config["end"]))


def load_effiqa(
    kg: Path | None, explorer: Path | None, data_dir: Path | None, console: Console | None = None
) -> tuple[Any, Any, Any]:
    """The effiqa team's compiled graph, knowledge graph and plug-in explorer."""
    from retinue.envs.knowledge_graph import KnowledgeGraph
    from retinue.graphs.effiqa import build_effiqa_graph
    from retinue.models.kg_explorer import ExplorerModel
    from retinue.paths import data_root
    from retinue.scenarios.effiqa import explorer_folder
    from retinue.tools.kg_explorer import PathExplorer

    folder = explorer_folder(explorer)
    (console or Console(stderr=True)).print("[dim]loading the knowledge graph and the plug-in explorer...[/dim]")
    graph = KnowledgeGraph.load(kg or data_root(data_dir) / "metaqa" / "kb.txt")
    return build_effiqa_graph().compile(), graph, PathExplorer(graph, ExplorerModel.load(folder))
