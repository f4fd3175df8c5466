"""Grammar-constrained decoding: retinue's lazy grammar check vs llama-cpp-python's grammar-first chain.

Both sides load the same GGUF (Gemma 3 270M by default) and decode FinCon's own schemas (the manager's
decision, an analyst's reading) greedily and at temperature 0.7, same seed, same prompts; rounds
alternate the sides. Reports tokens/s each, the speed-up, and whether greedy replies are identical
(they must be). Prompt processing is included, as in a real call.

    python bench/grammar_sampling.py [--rounds 2] [--max-tokens 160] [--out DIR]
"""

import argparse
import json
import time
from pathlib import Path

from _report import finish
from llama_cpp import Llama, LlamaGrammar

from retinue.agents.fincon import KeyPoint, ManagerReasons
from retinue.llms._lazy_grammar import LazyGrammarLlama
from retinue.llms.llama_cpp import default_model_path, grammar_schema

CASES = [
    (
        "You are the manager of a trading team. Decide BUY, SELL or HOLD for TSLA. News: deliveries beat.",
        ManagerReasons,
    ),
    ("Read the headlines and judge the stock: Apple beats estimates; iPhone demand strong.", KeyPoint),
    ("Read this filing excerpt and judge the outlook: revenue fell 5% on weak demand in China.", KeyPoint),
    ("You are the manager. MSFT momentum is +3% over 20 days; news is neutral. BUY, SELL or HOLD?", ManagerReasons),
]


def side(llama: Llama, grammars: list[LlamaGrammar], max_tokens: int) -> tuple[list[str], int, float]:
    replies, tokens, started = [], 0, time.perf_counter()
    for (prompt, _), grammar in zip(CASES, grammars, strict=True):
        for temperature in (0.0, 0.7):
            llama.reset()
            reply = llama.create_completion(
                prompt=f"### Instruction:\n{prompt}\n\n### Response:\n",
                grammar=grammar,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=1,
            )
            replies.append(reply["choices"][0]["text"])
            tokens += reply["usage"]["completion_tokens"]
    return replies, tokens, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    grammars = [
        LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema.model_json_schema())), verbose=False)
        for _, schema in CASES
    ]
    path = str(default_model_path())
    sides = {
        name: cls(model_path=path, n_ctx=2048, n_threads=args.threads, verbose=False, seed=0)
        for name, cls in (("grammar_first", Llama), ("lazy", LazyGrammarLlama))
    }
    totals = {name: [0, 0.0] for name in sides}
    greedy_identical = True
    for _ in range(args.rounds):
        replies = {}
        for name, llama in sides.items():
            replies[name], tokens, seconds = side(llama, grammars, args.max_tokens)
            totals[name][0] += tokens
            totals[name][1] += seconds
        greedy_identical &= replies["grammar_first"][::2] == replies["lazy"][::2]
    rate = {name: tokens / seconds for name, (tokens, seconds) in totals.items()}
    ratio = rate["lazy"] / rate["grammar_first"]
    print(f"grammar-first (llama-cpp-python): {rate['grammar_first']:.1f} tok/s")
    print(f"lazy (retinue):                   {rate['lazy']:.1f} tok/s -> {ratio:.2f}x")
    print(f"greedy replies identical: {greedy_identical}")
    report = {
        "grammar_first_tokens_per_second": round(rate["grammar_first"], 2),
        "lazy_tokens_per_second": round(rate["lazy"], 2),
        "speedup_ratio": round(ratio, 2),
        "greedy_identical": float(greedy_identical),
    }
    finish(report, "lazy >= 2x grammar-first, greedy identical", ratio >= 2 and greedy_identical, args.out)


if __name__ == "__main__":
    main()
