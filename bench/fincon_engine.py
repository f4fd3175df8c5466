"""FinCon engine costs: overhead per trading day, replay from the response cache, model cost per day.

1. Engine overhead: a FinCon backtest (durable day graph, analysts fanned out, manager, checkpoints)
   with a zero-latency scripted model, against the same weights replayed by a plain Python loop.
2. Replay: the same FinCon backtest on the embedded model run twice; the second run is served by the
   response cache. Reports the speed-up.
3. Model cost: LLM calls and tokens per trading day for FinCon on the embedded model.

    python bench/fincon_engine.py [--ticker AAPL] [--start 2022-10-05] [--end 2022-11-04]
                                  [--llm-end 2022-10-12] [--out DIR]
"""

import argparse
import json
import math
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from _report import save_metrics

from retinue import BacktestScenario, LLMConfig, RunResult, run
from retinue.datasets.prices import load_prices
from retinue.envs.market import MarketEnv
from retinue.paths import data_root

# Serves every call of a scripted FinCon day: a written part (key point, reasons; extra fields are
# ignored) and a choice (the option shown first).
ANY_STEP = {"position": 1, "signal": "neutral", "key_point": "k", "action": "BUY", "confidence": 0.5, "reasons": "r"}


def backtest(ticker: str, start: date, end: date, llm: LLMConfig, folder: Path) -> tuple[RunResult, float]:
    """FinCon over the window through `retinue.run`, as every front end runs it; its wall time."""
    scenario = BacktestScenario(method="fincon", tickers=[ticker], start=start, end=end, llm=llm)
    started = time.perf_counter()
    result = run(scenario, out=folder)
    return result, time.perf_counter() - started


def plain_loop(env: MarketEnv, weights: list[dict[str, float]]) -> tuple[list[float], float]:
    started = time.perf_counter()
    returns, previous = [], {}
    for i, w in enumerate(weights):
        at, nxt = env.window[i], env.window[i + 1]
        gross = sum(x * math.log(env.closes[t][nxt] / env.closes[t][at]) for t, x in w.items())
        returns.append(gross - env.cost_bps / 1e4 * sum(abs(w[t] - previous.get(t, 0.0)) for t in w))
        previous = w
    return returns, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticker", default="AAPL")
    parser.add_argument("--start", default="2022-10-05")
    parser.add_argument("--end", default="2022-11-04")
    parser.add_argument("--llm-end", default="2022-10-12", help="End of the shorter embedded-model window.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = data_root()
    start = date.fromisoformat(args.start)
    report: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        os.environ["RETINUE_HOME"] = folder  # a cold, private response cache
        env = MarketEnv(load_prices(root, [args.ticker]), start, date.fromisoformat(args.end))
        script = Path(folder) / "script.json"
        script.write_text(json.dumps({"responses": [ANY_STEP] * 10 * env.trading_days}))
        scripted = LLMConfig(provider="scripted", script=script, cache=False)
        result, engine_seconds = backtest(
            args.ticker, start, date.fromisoformat(args.end), scripted, Path(folder) / "a"
        )
        days = result.final["days"]
        returns, plain_seconds = plain_loop(env, [d["weights"] for d in days])
        assert returns == [d["log_return"] for d in days], "the plain loop must reproduce the engine's returns"
        per_day = 1000 * engine_seconds / len(days)
        report |= {
            "engine_ms_per_day": round(per_day, 3),
            "plain_loop_ms_per_day": round(1000 * plain_seconds / len(days), 5),
            "engine_overhead_ratio": round(engine_seconds / plain_seconds, 1),
        }
        print(
            f"engine: {per_day:.1f} ms per trading day with a zero-latency model ({len(days)} days); "
            f"plain loop {1000 * plain_seconds / len(days):.4f} ms -> {engine_seconds / plain_seconds:.0f}x"
        )

        timings = []
        for attempt in ("cold", "replay"):
            result, seconds = backtest(
                args.ticker, start, date.fromisoformat(args.llm_end), LLMConfig(), Path(folder) / attempt
            )
            timings.append(seconds)
            total, n = result.usage["total"], len(result.final["days"])
            if attempt == "cold":
                report |= {
                    "embedded_llm_calls_per_day": round(total["calls"] / n, 2),
                    "embedded_prompt_tokens_per_day": round(total["prompt_tokens"] / n, 1),
                    "embedded_completion_tokens_per_day": round(total["completion_tokens"] / n, 1),
                    "embedded_seconds_per_day": round(seconds / n, 2),
                }
                print(
                    f"model cost (Gemma 3 270M, {n} days): {total['calls'] / n:.2f} calls, "
                    f"{total['prompt_tokens'] / n:.0f} prompt + {total['completion_tokens'] / n:.0f} completion "
                    "tokens, "
                    f"{seconds / n:.1f} s per day"
                )
            else:
                assert total["calls"] == 0, "the replay should not call the model"
        report["replay_speedup_ratio"] = round(timings[0] / timings[1], 1)
        print(f"replay: {timings[0]:.1f} s cold, {timings[1]:.2f} s from the cache -> {timings[0] / timings[1]:.0f}x")
    save_metrics(report, args.out)


if __name__ == "__main__":
    main()
