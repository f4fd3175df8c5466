"""FinCon's training before a test backtest: episodes over the training window, then CVRF.

Each episode is a durable backtest of its own under RUN_DIR/episodes/<k> (its own checkpoints, memory and
usage), run with the team's beliefs as they stand. Training explores: episode k samples at the training
temperature with seed + k, so that two episodes can differ and be compared. From the second episode on,
a CVRF step compares it with the one before and revises the beliefs, which are kept in the run's store.
`--resume` finishes a stopped episode, skips finished ones and takes no CVRF step twice.
"""

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from retinue.cli.common import err, run_chat_model
from retinue.config import LLMConfig, validate_config
from retinue.errors import RetinueError

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


def fincon_method(env: Any, saved: dict[str, Any], llm_config: LLMConfig, usage: Any, beliefs: dict[str, str]) -> Any:
    from retinue.agents.fincon import FinconContext, FinconMethod
    from retinue.graphs.fincon import build_fincon_day_graph

    context = FinconContext(
        llm=run_chat_model(llm_config, usage, saved.get("db")),
        usage=usage,
        llm_config=llm_config,
        env=env,
        archive=_archive(saved["data_dir"], tuple(saved["tickers"])),
        beliefs=beliefs,
        sentiment=sentiment_tool(saved),
    )
    return FinconMethod(build_fincon_day_graph().compile(), context)


@functools.lru_cache(maxsize=2)
def _archive(data_dir: str, tickers: tuple[str, ...]) -> Any:
    """The tickers' text archive, read once for all of a run's episodes and its test (it is only read)."""
    from retinue.datasets.market_text import TextArchive

    return TextArchive.load(Path(data_dir), list(tickers))


def sentiment_tool(saved: dict[str, Any]) -> Any:
    """The news analyst's sentiment model, when the backtest names one."""
    from retinue.tools.local_models import SentimentTool

    folder = saved.get("sentiment_model")
    return SentimentTool.load(Path(folder)) if folder else None


def _episode_run(run: Any, number: int, saved: dict[str, Any]) -> tuple[Any, bool]:
    """The episode's run directory and whether it is being continued."""
    from retinue.runs.directory import RunDirectory

    path = run.path / EPISODES_DIR / str(number)
    if (path / "run.json").is_file():
        return RunDirectory.open(path, command="backtest episode"), True
    return RunDirectory.create("backtest episode", {**saved, "episode": number}, path, path.parent), False


def train(run: Any, saved: dict[str, Any], prices: Any) -> Training:
    """Run (or finish) the training episodes and CVRF steps of `run`; returns the resulting beliefs."""
    from retinue.agents.fincon.cvrf import Episode, load_beliefs, reinforce
    from retinue.agents.trading import TradingContext
    from retinue.envs.market import MarketEnv
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute, open_run_store

    spec = saved["train"]
    env = MarketEnv(
        prices, date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"]), cost_bps=saved["cost_bps"]
    )
    base = validate_config(LLMConfig, saved["llm"], source="[llm]")
    previous: Episode | None = None
    rows: list[dict[str, Any]] = []
    for number in range(1, spec["episodes"] + 1):
        llm_config = base.model_copy(update={"temperature": spec["temperature"], "seed": base.seed + number})
        with open_run_store(run) as store:
            beliefs = load_beliefs(store)
        episode_run, continuing = _episode_run(run, number, saved)
        usage = UsageRecorder()
        method = fincon_method(env, saved, llm_config, usage, beliefs)
        err.print(f"training episode {number}/{spec['episodes']}: {spec['start']} to {spec['end']}")
        final = execute(
            build_backtest_graph(),
            run=episode_run,
            context=TradingContext(env=env, decide=method, method="fincon"),
            usage=usage,
            inputs={"index": 0, "last": env.trading_days - 1, "days": []},
            resume=continuing,
            recursion_limit=2 * env.trading_days + 10,
            console=err,
        )
        if not final.get("days"):
            raise RetinueError(f"training episode {number} ended without trading days: {episode_run.path}")
        episode = Episode(number, final["days"])
        row: dict[str, Any] = {
            "episode": number,
            "cumulative_return_pct": round(episode.cumulative_return_pct, 4),
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
