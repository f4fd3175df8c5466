"""agent-gemma's training step on this machine: training tokens a second, and where a step's time goes.

`retinue train agent` computes the vocabulary head (262k x 640) only at the target option's tokens. The
baseline, measured in the same run on the same examples, is the usual step that computes the logits of
every position and then reads the target's. Each step is one example (prompt + target, as the embedded
model scores a choice), LoRA rank 16 on every linear layer of Gemma 3 270M; the two alternate step by
step. Reported: tokens a second of each, the ratio, and the share of forward, backward and optimizer.
Target: the target-only step >= 1.3x the baseline's tokens a second.

    python bench/agent_training.py --data RUN_DIR [--steps 8] [--out DIR]

RUN_DIR is a `retinue train agent-data` run folder (its actor.jsonl).
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from _report import OUT_HELP, finish
from torch.nn.functional import cross_entropy

from retinue.training.lm import agent_sft
from retinue.training.lm.gemma import base_folder, load_gemma


def full_logits_loss(model: Any, example: agent_sft.Tokenised) -> torch.Tensor:
    """The baseline: logits at every position, then the target's read."""
    tokens = torch.tensor([example.tokens])
    logits = model.model.model(input_ids=tokens, use_cache=False).logits[0, example.target_start - 1 : -1]
    return cross_entropy(logits.float(), tokens[0, example.target_start :])


def timed_step(
    loss_of: Callable[[Any, agent_sft.Tokenised], torch.Tensor],
    model: Any,
    optimiser: torch.optim.Optimizer,
    example: agent_sft.Tokenised,
) -> dict[str, float]:
    optimiser.zero_grad()
    started = time.perf_counter()
    loss = loss_of(model, example)
    forward = time.perf_counter()
    loss.backward()
    backward = time.perf_counter()
    optimiser.step()
    done = time.perf_counter()
    return {"forward": forward - started, "backward": backward - forward, "optimizer": done - backward}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="A `retinue train agent-data` run folder.")
    parser.add_argument("--steps", type=int, default=8, help="Steps of each kind (one example each).")
    parser.add_argument("--out", type=Path, help=OUT_HELP)
    args = parser.parse_args()

    tokenised, _ = agent_sft.tokenise(agent_sft.read_examples(args.data, ["actor"]), 1024)
    examples = tokenised[: args.steps]
    gemma, _ = load_gemma(base_folder())
    model = agent_sft.add_lora(gemma, 16, 32)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()
    timed_step(agent_sft.target_loss, model, optimiser, examples[0])  # warm-up, not counted
    times: dict[str, list[dict[str, float]]] = {"target_only": [], "full_logits": []}
    for example in examples:
        times["target_only"].append(timed_step(agent_sft.target_loss, model, optimiser, example))
        times["full_logits"].append(timed_step(full_logits_loss, model, optimiser, example))
    tokens = sum(len(e.tokens) for e in examples)
    report: dict[str, Any] = {
        "steps": len(examples),
        "mean_tokens": round(tokens / len(examples)),
        "threads": torch.get_num_threads(),
    }
    for kind, steps in times.items():
        seconds = sum(sum(step.values()) for step in steps)
        report[f"{kind}_tokens_per_second"] = round(tokens / seconds, 1)
        for part in ("forward", "backward", "optimizer"):
            report[f"{kind}_{part}_share"] = round(sum(step[part] for step in steps) / seconds, 3)
        report[f"{kind}_median_step_seconds"] = round(statistics.median(sum(s.values()) for s in steps), 3)
    ratio = report["target_only_tokens_per_second"] / report["full_logits_tokens_per_second"]
    report["ratio"] = round(ratio, 2)
    for key, value in report.items():
        print(f"{key}: {value}")
    finish(report, "target-only step >= 1.3x the full-logits step's tokens a second", ratio >= 1.3, args.out)


if __name__ == "__main__":
    main()
