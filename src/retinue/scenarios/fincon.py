"""FinCon's training before a test backtest: episodes over the training window, then CVRF.

Each episode is a durable backtest of its own under RUN_DIR/episodes/<k> (its own checkpoints, memory and
usage), run with the team's beliefs as they stand. Training explores: episode k samples at the training
temperature with seed + k, so that two episodes can differ and be compared. From the second episode on,
a CVRF step compares it with the one before and revises the beliefs, which are kept in the run's store.
`--resume` finishes a stopped episode, skips finished ones and takes no CVRF step twice.
"""

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from retinue.config import LLMConfig
from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory

if TYPE_CHECKING:  # backtest.py builds FinCon through this module
    from retinue.scenarios.backtest import BacktestScenario

EPISODES_DIR = "episodes"


@dataclass(frozen=True)
class Training:
    """What training left: the beliefs for the test run and one summary row per episode."""

    beliefs: dict[str, str]
    episodes: list[dict[str, Any]]

    def metrics(self) -> dict[str, Any]:
        return {
            "training_episodes": len(self.episodes),
            "training_llm_calls": sum(e["llm_calls"] for e in self.episodes),
            "training_prompt_tokens": sum(e["prompt_tokens"] for e in self.episodes),
            "training_completion_tokens": sum(e["completion_tokens"] for e in self.episodes),
        }


def fincon_method(
    env: Any, config: "BacktestScenario", llm_config: LLMConfig, usage: Any, beliefs: dict[str, str]
) -> Any:
    """FinCon's team for one pass over `env`: analysts and manager on the run's chat model, with `beliefs`."""
    from retinue.agents.fincon import FinconContext, FinconMethod
    from retinue.graphs.fincon import build_fincon_day_graph
    from retinue.llms import run_chat_model

    context = FinconContext(
        llm=run_chat_model(llm_config, usage, config.db),
        usage=usage,
        llm_config=llm_config,
        env=env,
        archive=_archive(str(config.data_dir), tuple(config.tickers)),
        beliefs=beliefs,
        sentiment=sentiment_tool(config),
    )
    return FinconMethod(build_fincon_day_graph().compile(), context)


@functools.lru_cache(maxsize=2)
def _archive(data_dir: str, tickers: tuple[str, ...]) -> Any:
    """The tickers' text archive, read once for all of a run's episodes and its test (it is only read)."""
    from retinue.datasets.market_text import TextArchive

    return TextArchive.load(Path(data_dir), list(tickers))


def sentiment_tool(config: "BacktestScenario") -> Any:
    """The news analyst's sentiment model, when the backtest names one."""
    from retinue.tools.local_models import SentimentTool

    return SentimentTool.load(config.sentiment_model) if config.sentiment_model else None


def _episode_run(run: RunDirectory, number: int, config: "BacktestScenario") -> tuple[RunDirectory, bool]:
    """The episode's run directory and whether it is being continued."""
    path = run.path / EPISODES_DIR / str(number)
    if (path / "run.json").is_file():
        return RunDirectory.open(path, command="backtest episode"), True
    return RunDirectory.create("backtest episode", {**config.saved(), "episode": number}, path, path.parent), False


def train(run: RunDirectory, config: "BacktestScenario", prices: Any, console: Console | None = None) -> Training:
    """Run (or finish) the training episodes and CVRF steps of `run`; returns the resulting beliefs."""
    from retinue.agents.backtest import TradingContext
    from retinue.agents.fincon.cvrf import Episode, load_beliefs, reinforce
    from retinue.envs.market import MarketEnv
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute, open_run_store

    console = console or Console(stderr=True)
    spec = config.train
    assert spec is not None, "train() needs a training window"
    env = MarketEnv(prices, spec.start, spec.end, cost_bps=config.cost_bps)
    base = config.llm
    previous: Episode | None = None
    rows: list[dict[str, Any]] = []
    for number in range(1, spec.episodes + 1):
        llm_config = base.model_copy(update={"temperature": spec.temperature, "seed": base.seed + number})
        with open_run_store(run) as store:
            beliefs = load_beliefs(store)
        episode_run, continuing = _episode_run(run, number, config)
        usage = UsageRecorder()
        method = fincon_method(env, config, llm_config, usage, beliefs)
        console.print(f"training episode {number}/{spec.episodes}: {spec.start} to {spec.end}")
        final = execute(
            build_backtest_graph(),
            run=episode_run,
            context=TradingContext(env=env, decide=method, method="fincon"),
            usage=usage,
            inputs={"index": 0, "last": env.trading_days - 1, "days": []},
            resume=continuing,
            recursion_limit=2 * env.trading_days + 10,
            console=console,
        )
        if not final.get("days"):
            raise RetinueError(f"training episode {number} ended without trading days: {episode_run.path}")
        episode = Episode(number, final["days"])
        row: dict[str, Any] = {
            "episode": number,
            "cumulative_log_return_pct": round(episode.cumulative_log_return_pct, 4),
            "trades": episode.trades,
        }
        if previous is not None:
            with open_run_store(run) as store:
                step = reinforce(method.context.llm, llm_config, usage, store, previous, episode)
            usage.save(episode_run.usage_path)
            row |= {"tau": step["tau"], "better_episode": step["better"], "insights": step["insights"]}
        total = usage.to_dict()["total"]
        row |= {k: total[k] for k in ("calls", "prompt_tokens", "completion_tokens")}
        row["llm_calls"] = row.pop("calls")
        rows.append(row)
        previous = episode
    with open_run_store(run) as store:
        return Training(load_beliefs(store), rows)
