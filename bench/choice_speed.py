"""A closed choice by the embedded model vs an 8-token constrained generation on the same prompt.

`choose()` scores every option as the continuation of the prompt: the prompt is evaluated once and each
option's few tokens after it, on its KV cache. The baseline is what `decide()` costs for the same pick:
an 8-token reply under a JSON-schema grammar. Both run on the same ~600-token FinCon manager prompt
(Gemma 3 270M by default, no response cache), alternating call by call; medians are compared. A second
line reports the calibrated choice once its content-free scores are known (they are asked once per
process and order, then reused). Target: choice <= 1.3x the generation.

    python bench/choice_speed.py [--calls 12] [--out DIR]
"""

import argparse
import statistics
import time
from pathlib import Path

from _report import OUT_HELP, finish
from langchain_core.messages import HumanMessage

from retinue.agents.fincon.manager import ManagerCase, decision_prompt
from retinue.llms.choice import choose
from retinue.llms.llama_cpp import LlamaCppChatModel, default_model_path

REPORT = (
    "- data analyst (negative): TSLA closed at 113.06 on 2023-01-03; momentum -17.40% (5d), -38.23% (20d); "
    "volatility 78.5% a year; CVaR(5%, 60d) -8.81% a day; trend down.\n"
    "- news analyst (negative): Tesla delivered 405,278 vehicles in the fourth quarter, short of the 420,000 "
    "analysts expected, and the company cut prices in China for the second time in three months.\n"
    "- earnings_call analyst (neutral): Management reiterated its 50% long-term growth target but gave no "
    "2023 delivery guidance; margins are expected to narrow as prices fall.\n"
)
SCHEMA = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]}},
    "required": ["action"],
    "additionalProperties": False,
}


def prompt_case(tokens: int, model: LlamaCppChatModel) -> ManagerCase:
    """A manager case whose choice prompt is about `tokens` long: the reports, repeated as past episodes."""
    episodes = ""
    while True:
        case = ManagerCase("TSLA", "2023-01-03", "long", REPORT, episodes or "none yet")
        length = len(model.format_prompt(decision_prompt(case, "Bearish on all counts.").messages)[0])
        if length >= tokens:
            return case
        episodes += (
            f"- 2022-12-{len(episodes) % 28 + 1:02d}: SELL TSLA (deliveries weak); the portfolio returned +1.2%\n"
        )


def timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=12, help="Calls of each kind (alternating).")
    parser.add_argument("--prompt-tokens", type=int, default=600, help="Length of the shared prompt.")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of the model.")
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    args = parser.parse_args()
    model = LlamaCppChatModel(model_path=str(default_model_path()), n_ctx=2048, n_threads=args.threads, max_tokens=8)
    case = prompt_case(args.prompt_tokens, model)
    plain = decision_prompt(case, "Bearish on all counts.")
    plain = type(plain)(**{**vars(plain), "content_free": None})
    calibrated = decision_prompt(case, "Bearish on all counts.")
    listed = [HumanMessage(str(plain.messages[-1].content).replace("{options}", "BUY, SELL, HOLD"))]
    prompt_tokens = len(model.format_prompt(listed)[0])
    order = ["BUY", "SELL", "HOLD"]
    choose(model, calibrated, default="HOLD", order=order)  # warm: loads the model, asks the content-free scores
    choice, calibrated_choice, generation = [], [], []
    for _ in range(args.calls):
        choice.append(timed(lambda: choose(model, plain, default="HOLD", order=order)))
        calibrated_choice.append(timed(lambda: choose(model, calibrated, default="HOLD", order=order)))
        generation.append(timed(lambda: model.invoke(listed, response_schema=SCHEMA, max_tokens=8)))
    medians = {
        name: statistics.median(times)
        for name, times in (("choice", choice), ("calibrated", calibrated_choice), ("generation", generation))
    }
    ratio = medians["choice"] / medians["generation"]
    print(f"prompt: {prompt_tokens} tokens; {args.calls} calls of each")
    print(f"8-token constrained generation: {medians['generation'] * 1000:.0f} ms")
    print(f"3-option choice:                {medians['choice'] * 1000:.0f} ms -> {ratio:.2f}x")
    print(
        f"calibrated (content-free known): {medians['calibrated'] * 1000:.0f} ms "
        f"-> {medians['calibrated'] / medians['generation']:.2f}x"
    )
    report = {
        "prompt_tokens": prompt_tokens,
        "generation_seconds": round(medians["generation"], 4),
        "choice_seconds": round(medians["choice"], 4),
        "calibrated_choice_seconds": round(medians["calibrated"], 4),
        "choice_vs_generation_ratio": round(ratio, 3),
    }
    finish(report, "choice <= 1.3x an 8-token constrained generation", ratio <= 1.3, args.out)


if __name__ == "__main__":
    main()
