"""Tokens/s of retinue's embedded chat model vs raw `llama_cpp.Llama`, same prompts and settings.

Both sides load the same GGUF and generate greedily with the same seed and token budget; retinue's side
goes through LangChain's `invoke`/`stream` (callbacks, usage accounting, chat template, response cache
off) so the ratio is the cost of the seam. Rounds alternate the two sides to share the machine's noise.
Target: ratio >= 0.95.

    python bench/llm_throughput.py [--rounds 3] [--max-tokens 96] [--out DIR]
"""

import argparse
import os
import time
from pathlib import Path

from _report import finish
from langchain_core.messages import HumanMessage
from llama_cpp import Llama

from retinue.llms.llama_cpp import LlamaCppChatModel, default_model_path
from retinue.llms.usage import UsageRecorder

PROMPTS = [
    "Summarise what a price-to-earnings ratio tells an investor.",
    "Describe a kitchen with a fridge, a knife and a red apple.",
    "Who directed the film that starred the actor of Heat?",
    "List three risks of holding a single stock.",
    "Explain what a stop-loss order does.",
]


def raw_side(
    llama: Llama, prompts: list[tuple[list[int], list[str]]], max_tokens: int, stream: bool
) -> tuple[int, float]:
    """Raw llama.cpp on the very tokens and stop strings retinue sends (formatting is not in the baseline)."""
    tokens, started = 0, time.perf_counter()
    for prompt, stop in prompts:
        args = {"max_tokens": max_tokens, "temperature": 0.0, "seed": 0, "stop": stop}
        if stream:
            tokens += sum(
                1 for part in llama.create_completion(prompt, stream=True, **args) if part["choices"][0]["text"]
            )
        else:
            tokens += llama.create_completion(prompt, **args)["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - started


def retinue_side(model: LlamaCppChatModel, stream: bool) -> tuple[int, float]:
    usage = UsageRecorder()
    tokens, started = 0, time.perf_counter()
    for prompt in PROMPTS:
        messages = [HumanMessage(prompt)]
        if stream:
            tokens += sum(1 for chunk in model.stream(messages, config={"callbacks": [usage]}) if chunk.content)
        else:
            reply = model.invoke(messages, config={"callbacks": [usage]})
            tokens += reply.usage_metadata["output_tokens"] if reply.usage_metadata else 0
    return tokens, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    path = str(default_model_path())
    threads = os.cpu_count()
    raw = Llama(model_path=path, n_ctx=4096, n_threads=threads, verbose=False, seed=0)
    ours = LlamaCppChatModel(
        model_path=path, n_ctx=4096, n_threads=threads, max_tokens=args.max_tokens, temperature=0.0, seed=0
    )
    prompts = [ours.format_prompt([HumanMessage(p)]) for p in PROMPTS]
    report: dict[str, float] = {}
    for mode, stream in (("invoke", False), ("stream", True)):
        raw_side(raw, prompts, 8, stream), retinue_side(ours.model_copy(update={"max_tokens": 8}), stream)  # warm-up
        totals = {"raw": [0, 0.0], "retinue": [0, 0.0]}
        for _ in range(args.rounds):
            for side in ("raw", "retinue"):
                tokens, seconds = (
                    raw_side(raw, prompts, args.max_tokens, stream) if side == "raw" else retinue_side(ours, stream)
                )
                totals[side][0] += tokens
                totals[side][1] += seconds
        raw_tps = totals["raw"][0] / totals["raw"][1]
        our_tps = totals["retinue"][0] / totals["retinue"][1]
        ratio = our_tps / raw_tps
        print(
            f"{mode:>6}: raw llama_cpp {raw_tps:6.1f} tok/s, retinue {our_tps:6.1f} tok/s -> ratio {ratio:.3f} "
            f"({int(totals['retinue'][0])} vs {int(totals['raw'][0])} tokens)"
        )
        report |= {
            f"raw_{mode}_tokens_per_second": round(raw_tps, 2),
            f"retinue_{mode}_tokens_per_second": round(our_tps, 2),
            f"{mode}_ratio": round(ratio, 4),
        }
    finish(report, "ratio >= 0.95", min(report["invoke_ratio"], report["stream_ratio"]) >= 0.95, args.out)


if __name__ == "__main__":
    main()
