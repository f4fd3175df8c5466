"""`retinue train agent`: agent-gemma, Gemma 3 270M fine-tuned on the agents' own choices."""

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from retinue.cli.common import RunDirOption, complete_run, err
from retinue.errors import RetinueError

AGENT_NAME = "agent-gemma"
EVALUATED = 64  # examples of each side (trained on, held out) whose target loss the card reports


def train_agent(
    data: Annotated[
        list[Path],
        typer.Option(help="A `retinue train agent-data` run folder (its <role>.jsonl files); repeat for several."),
    ],
    roles: Annotated[str, typer.Option(help="Roles to train on, comma-separated.")] = "actor",
    steps: Annotated[int, typer.Option(help="Optimiser steps (the default recipe: 56 min on 2 CPU cores).")] = 300,
    accumulate: Annotated[int, typer.Option(help="Examples per optimiser step.")] = 4,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the LoRA adapters.")] = 2e-4,
    rank: Annotated[int, typer.Option(help="LoRA rank (alpha is twice it).")] = 16,
    max_tokens: Annotated[int, typer.Option(help="Examples longer than this (prompt + target) are left out.")] = 1024,
    held_out: Annotated[float, typer.Option(help="Share of games/questions held out for the card's figures.")] = 0.05,
    per_role: Annotated[
        str | None,
        typer.Option(
            help="At most this many examples of each role (400), or of the roles named (planner=2000,actor=300), "
            "drawn by --seed (default: all)."
        ),
    ] = None,
    budget_tokens: Annotated[
        int | None,
        typer.Option(help="Train on examples whose tokens reach this budget, chosen by --selection (default: all)."),
    ] = None,
    selection: Annotated[
        str, typer.Option(help="With --budget-tokens: zip (the least redundant mixture) or random (the control).")
    ] = "zip",
    init_adapter: Annotated[
        Path | None,
        typer.Option(help="Continue from this adapter (e.g. models/agent-gemma) instead of a fresh one; its rank."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the held-out split and the example order.")] = 0,
    name: Annotated[str, typer.Option(help="Register the model under this name.")] = AGENT_NAME,
    out_dir: RunDirOption = None,
) -> None:
    """Fine-tune Gemma 3 270M (LoRA on every linear layer of its blocks, loss on the target option's tokens
    only) on examples from `retinue train agent-data`, tokenised exactly as the embedded model scores a
    choice. Writes RUN_DIR/adapter (the LoRA weights, about 8 MB, and their card: what `models/agent-gemma`
    ships), RUN_DIR/model (the merged model.gguf), registers it as NAME (`--model NAME` runs it), and
    metrics.json with the target loss before and after on trained and held-out examples."""
    from retinue.models.registry import register
    from retinue.paths import runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.lm import agent_sft
    from retinue.training.lm.gemma import base_folder, load_gemma
    from retinue.training.lm.train import lm_card

    if steps < 1 or accumulate < 1 or rank < 1 or not 0 <= held_out < 1 or max_tokens < 64:
        raise RetinueError("--steps, --accumulate and --rank at least 1, --held-out in [0, 1), --max-tokens >= 64")
    if selection not in agent_sft.SELECTIONS or (budget_tokens is not None and budget_tokens < 1):
        raise RetinueError(f"--selection: one of {', '.join(agent_sft.SELECTIONS)}; --budget-tokens at least 1")
    caps = agent_sft.parse_per_role(per_role) if per_role is not None else None
    chosen = [r.strip() for r in roles.split(",") if r.strip()]
    if isinstance(caps, dict) and (unknown := sorted(set(caps) - set(chosen))):
        raise RetinueError(f"--per-role names {', '.join(unknown)}, not among --roles {','.join(chosen)}")
    examples = agent_sft.per_role(agent_sft.read_examples(data, chosen), caps, seed)
    config = {
        "data": [str(d) for d in data],
        "roles": chosen,
        "steps": steps,
        "accumulate": accumulate,
        "lr": lr,
        "rank": rank,
    }
    config |= {"budget_tokens": budget_tokens, "selection": selection if budget_tokens else None}
    config |= {"per_role": caps, "init_adapter": str(init_adapter.resolve()) if init_adapter else None}
    started = time.perf_counter()
    with err.status("tokenising the examples as the embedded model sees them"):
        tokenised, too_long = agent_sft.tokenise(examples, max_tokens)
    trained_on, held = agent_sft.split_held_out(tokenised, held_out, seed)
    chosen_by: dict[str, object] = {}
    if budget_tokens is not None:
        with err.status(f"choosing examples to {budget_tokens} tokens by {selection}"):
            picked = agent_sft.select_to_budget(trained_on, budget_tokens, selection, seed)
        trained_on = picked.examples
        chosen_by = {
            "selection": picked.how,
            "budget_tokens": budget_tokens,
            "selected_tokens": picked.tokens,
            "compression_ratio_selected": picked.ratio,
            "compression_ratio_pool": picked.pool_ratio,
        }
        err.print(
            f"{picked.how}: {len(trained_on)} examples, {picked.tokens} tokens, compression ratio {picked.ratio} "
            f"(the pool's {picked.pool_ratio})"
        )
    # The run folder only once the examples are known to make a training set: a refused budget leaves none.
    run = RunDirectory.create("train agent", config | {"max_tokens": max_tokens, "seed": seed}, out_dir, runs_root())
    with err.status("loading Gemma 3 270M in torch"):
        gemma, _ = load_gemma(base_folder())
    device = agent_sft.training_device()
    gemma.to(device)
    parameters = gemma.parameters_count()
    sample, held_sample = trained_on[:EVALUATED], held[:EVALUATED]
    continued: dict[str, object] = {}
    continued_roles: list[str] = []
    if init_adapter is not None:
        wrapped, started_from = agent_sft.load_adapter(init_adapter, gemma)
        rank = int(started_from["lora"]["rank"])
        continued = {key: started_from.get(key) for key in ("command", "training_data", "device", "metrics")}
        continued["adapter_sha256"] = started_from.get("tensors_sha256")
        if "continued_from" in started_from:  # the whole chain of stages, each with its own recipe
            continued["continued_from"] = started_from["continued_from"]
        continued_roles = list(started_from.get("choice_roles", []))
    else:
        wrapped = agent_sft.add_lora(gemma, rank, 2 * rank)
    before = {  # of the model training starts from: the base, or the adapter continued from
        "train": agent_sft.mean_target_loss(wrapped, sample),
        "held": agent_sft.mean_target_loss(wrapped, held_sample),
    }
    with progress_bars(console=err) as bar:
        task = bar.add_task("training steps", total=steps)
        losses = agent_sft.train(
            wrapped, trained_on, steps, lr=lr, accumulate=accumulate, seed=seed,
            progress=lambda done, _: bar.update(task, completed=done),
        )  # fmt: skip
    after = {
        "train": agent_sft.mean_target_loss(wrapped, sample),
        "held": agent_sft.mean_target_loss(wrapped, held_sample),
    }
    tokens = sum(len(e.tokens) for e in trained_on) / max(1, len(trained_on)) * steps * accumulate
    seconds = round(time.perf_counter() - started, 1)
    metrics = {
        "examples": len(tokenised),
        "examples_too_long": too_long,
        "train_examples": len(trained_on),
        "held_out_examples": len(held),
        "target_loss_train_before": before["train"],
        "target_loss_train_after": after["train"],
        "target_loss_held_out_before": before["held"],
        "target_loss_held_out_after": after["held"],
        "last_step_loss": round(losses[-1], 4),
        "training_tokens": round(tokens),
        "seconds": seconds,
    } | chosen_by
    card = lm_card(
        gemma, "the agents' choices (" + ", ".join(chosen) + ")",
        f"{len(trained_on)} examples of {', '.join(str(d) for d in data)} (retinue train agent-data: train splits only)"
        + (f", chosen by {selection} to {budget_tokens} tokens, " if budget_tokens else ", ")
        + f"{steps} steps x {accumulate}, LoRA rank {rank} merged",
        "fine-tuning (LoRA, merged)", base="gemma-270m", metrics=metrics, seed=seed,
        device=f"{agent_sft.device_description(device)}, {seconds / 60:.0f} min",
        command=" ".join(["retinue", *sys.argv[1:]]), choice_roles=sorted({*chosen, *continued_roles}),
    )  # fmt: skip
    if continued:
        card["continued_from"] = continued  # the adapter this one was trained on from, with its own recipe
    card["parameters"] = parameters  # of the merged model, not counting the adapters
    agent_sft.save_adapter(wrapped, run.path / "adapter", card)
    del wrapped, gemma  # the GGUF is made from the saved adapter, exactly as a shipped one is
    with err.status(f"writing the merged model to {run.path / 'model' / 'model.gguf'}"):
        agent_sft.write_merged(run.path / "adapter", run.path / "model")
    register(name, run.path / "model")
    complete_run(run, metrics, seconds)
    err.print(f"model: {run.path / 'model'} (registered as {name!r}; --model {name} runs it)")
