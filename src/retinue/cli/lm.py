"""The small-LM training commands: `retinue train cpt` (domain continual pretraining, Igea-style), `train
transact` (structured pruning) and `train iclguard` (LoRA adapters that switch in-context learning off)."""

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import RunDirOption, complete_run, err
from retinue.errors import RetinueError

CPT_NAME = "cpt-tiny"
CPT_GEMMA_NAME = "cpt-gemma"
TRANSACT_GEMMA_NAME = "transact-gemma"


def _general_split(path: Path, seed: int) -> tuple[list[str], list[str]]:
    """UD-style files carry a split field (dev for training, test held out); others are split 90/10."""
    from retinue.training.lm.data import read_texts, split_documents

    try:
        return read_texts(path, split="dev"), read_texts(path, split="test")
    except RetinueError:
        return split_documents(read_texts(path), 0.1, seed)


def train_cpt(
    base: Annotated[
        str,
        typer.Option(
            help="tiny (a small byte-level decoder pretrained here on --general), gemma-270m (the embedded "
            "Gemma 3 270M, in torch) or a model folder."
        ),
    ] = "tiny",
    domain: Annotated[
        Path | None, typer.Option(help="Domain JSONL (default: the data root's italian/e3c_it.jsonl).")
    ] = None,
    general: Annotated[
        Path | None, typer.Option(help="General JSONL (default: italian/ud_isdt_sentences.jsonl).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Continual-pretraining steps on the domain.")] = 400,
    base_steps: Annotated[int, typer.Option(help="tiny: pretraining steps on the general text first.")] = 400,
    replay: Annotated[float, typer.Option(help="Share of every batch replayed from general text (0..0.9).")] = 0.0,
    seq: Annotated[int, typer.Option(help="Tokens (bytes) per training sequence.")] = 128,
    batch_size: Annotated[int, typer.Option("--batch", help="Sequences per step.")] = 16,
    lr: Annotated[
        float | None, typer.Option(help="Peak learning rate, warmup then cosine to a tenth (tiny: 3e-3, Gemma: 2e-5).")
    ] = None,
    held_blocks: Annotated[int, typer.Option(help="Most held-out sequences per perplexity measurement.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed of the splits, the weights and the batches.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding italian/ (default: see README).")] = None,
    out_dir: RunDirOption = None,
) -> None:
    """Continue pretraining a decoder LM on domain text and report perplexity on held-out domain text (5 % of
    the domain documents) and on held-out general text, before and after: the domain gain and the
    forgetting. The model lands in RUN_DIR/model (and, for --base tiny, the base in RUN_DIR/base); a Gemma
    model also as RUN_DIR/model/model.gguf, which `--model cpt-gemma` runs as the embedded chat model."""
    import torch
    from rich.progress import TextColumn

    from retinue.models.registry import register
    from retinue.paths import data_root, runs_root
    from retinue.progress import default_columns, progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.lm.data import pack, read_texts, split_documents
    from retinue.training.lm.gemma import BASE_NAME, GemmaLM, base_folder
    from retinue.training.lm.model import DecoderConfig, DecoderLM
    from retinue.training.lm.tokenizer import BYTES
    from retinue.training.lm.train import LanguageModel, lm_card, load_lm, perplexity, save_lm, train_lm

    if steps < 1 or base_steps < 1 or seq < 8 or batch_size < 1 or held_blocks < 1:
        raise RetinueError("--steps, --base-steps, --batch and --held-blocks must be at least 1, --seq at least 8")
    if not 0 <= replay <= 0.9:
        raise RetinueError(f"--replay: {replay} is outside 0..0.9")
    if domain is None or general is None:
        root = data_root(data_dir)
        domain, general = (
            domain or root / "italian" / "e3c_it.jsonl",
            general or root / "italian" / "ud_isdt_sentences.jsonl",
        )
    loaded: LanguageModel | None = None
    if base != "tiny":  # a bad base fails before any run directory is made
        loaded, _ = load_lm(base_folder() if base == BASE_NAME else Path(base))
        if loaded.max_seq < seq:
            raise RetinueError(f"--seq {seq} is longer than the base model's {loaded.max_seq}")
        if isinstance(loaded, GemmaLM):
            loaded.freeze_embeddings()
    lr = lr if lr is not None else 2e-5 if isinstance(loaded, GemmaLM) else 3e-3
    tokenizer = loaded.tokenizer if loaded is not None else BYTES
    domain_train, domain_held = split_documents(read_texts(domain), 0.05, seed)
    general_train, general_held = _general_split(general, seed)
    blocks = {
        "domain": pack(domain_train, seq, tokenizer=tokenizer),
        "domain_held": pack(domain_held, seq, max_blocks=held_blocks, tokenizer=tokenizer),
        "general": pack(general_train, seq, tokenizer=tokenizer),
        "general_held": pack(general_held, seq, max_blocks=held_blocks, tokenizer=tokenizer),
    }
    config = {
        "base": base, "domain": str(domain), "general": str(general), "steps": steps, "base_steps": base_steps,
        "replay": replay, "seq": seq, "batch": batch_size, "lr": lr, "held_blocks": held_blocks, "seed": seed,
    }  # fmt: skip
    run = RunDirectory.create("train cpt", config, out_dir, runs_root())
    started = time.perf_counter()
    with progress_bars(*default_columns(), TextColumn("loss {task.fields[loss]}"), console=err) as bar:

        def follow(name: str, total: int) -> Any:
            task = bar.add_task(name, total=total, loss="-")
            return lambda step, _, loss: bar.update(task, completed=step, loss=f"{loss:.3f}")

        model: LanguageModel
        if loaded is None:
            torch.manual_seed(seed)
            model = DecoderLM(DecoderConfig(max_seq=seq))
            train_lm(model, blocks["general"], base_steps, batch_size=batch_size, peak_lr=lr, seed=seed,
                     progress=follow("pretraining on general text", base_steps))  # fmt: skip
            save_lm(
                model, run.path / "base", {"task": "byte-level LM, pretrained on general text", "data": str(general)}
            )
        else:
            model = loaded
        before = {
            "domain": perplexity(model, blocks["domain_held"]),
            "general": perplexity(model, blocks["general_held"]),
        }
        train_lm(model, blocks["domain"], steps, batch_size=batch_size, peak_lr=lr, warmup=max(1, steps // 20),
                 replay=blocks["general"], replay_share=replay, seed=seed + 1,
                 progress=follow("continual pretraining on the domain", steps))  # fmt: skip
    after = {"domain": perplexity(model, blocks["domain_held"]), "general": perplexity(model, blocks["general_held"])}
    seconds = round(time.perf_counter() - started, 1)
    metrics = {
        "domain_ppl_before": round(before["domain"], 3),
        "domain_ppl_after": round(after["domain"], 3),
        "general_ppl_before": round(before["general"], 3),
        "general_ppl_after": round(after["general"], 3),
        "domain_tokens_seen": steps * batch_size * seq,
        "parameters": model.parameters_count(),
        "trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "seconds": seconds,
    }
    card = lm_card(
        model, "domain continual pretraining (Igea-style)", f"{domain}, then {steps} steps on it"
        + (f" with {replay:.0%} replay of {general}" if replay else ""),
        "fine-tuning (continual pretraining)", base=base, metrics=metrics,
    )  # fmt: skip
    _save(model, run.path / "model", card)
    if base in ("tiny", BASE_NAME):
        register(CPT_NAME if base == "tiny" else CPT_GEMMA_NAME, run.path / "model")
    complete_run(run, metrics, seconds)
    err.print(f"model: {run.path / 'model'}")


def train_transact(
    model_dir: Annotated[
        str | None,
        typer.Option(
            "--model", help="A decoder model folder, or gemma-270m (the embedded Gemma 3 270M; default: cpt-tiny)."
        ),
    ] = None,
    target_attn_dim: Annotated[
        int, typer.Option(help="Attention inner width per layer (query heads x head_dim; Gemma's head_dim is 256).")
    ] = 64,
    target_mlp_dim: Annotated[int, typer.Option(help="MLP intermediate width per layer.")] = 176,
    rounds: Annotated[int, typer.Option(help="Pruning rounds, each followed by a short retraining.")] = 3,
    retrain_steps: Annotated[int, typer.Option(help="Retraining steps after each round.")] = 40,
    lr: Annotated[float | None, typer.Option(help="Peak retraining learning rate (tiny: 1e-3, Gemma: 1e-4).")] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch", help="Retraining sequences per step (tiny: 16, Gemma: 4).")
    ] = None,
    calib_blocks: Annotated[
        int | None, typer.Option(help="128-token calibration sequences (tiny: 128, Gemma: 32).")
    ] = None,
    held_blocks: Annotated[
        int | None, typer.Option(help="Held-out 128-token sequences for perplexity (tiny: 256, Gemma: 64).")
    ] = None,
    calib: Annotated[
        Path | None, typer.Option(help="Calibration and retraining text, JSONL (default: italian/e3c_it.jsonl).")
    ] = None,
    compare: Annotated[bool, typer.Option(help="Also prune by magnitude and at random to the same widths.")] = True,
    timing_repeats: Annotated[
        int, typer.Option(help="Timed forward passes over 8 held-out sequences; tokens/s is the best of them.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the split, the retraining and the random baseline.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding italian/ (default: see README).")] = None,
    out_dir: RunDirOption = None,
) -> None:
    """TransAct structured pruning: keep the hidden width, shrink each layer's attention (whole heads) and MLP
    to the target widths by calibration-activation importance, iteratively with retraining. Reports
    parameters, KV-cache size, tokens/s and held-out perplexity before and after (and for magnitude and
    random pruning to the same widths); the pruned model lands in RUN_DIR/model (a Gemma also as
    model.gguf, registered as transact-gemma for the embedded chat model)."""
    import torch

    from retinue.models.registry import model_folder, register
    from retinue.paths import data_root, runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.lm.data import pack, read_texts, split_documents
    from retinue.training.lm.gemma import BASE_NAME, GemmaLM, base_folder
    from retinue.training.lm.train import lm_card, load_lm, perplexity
    from retinue.training.lm.transact import METHODS, check_targets, geometry, tokens_per_second, transact

    if model_dir == BASE_NAME:
        folder = base_folder()
    else:
        how = "train one with `retinue train cpt`, or give --model DIR"
        folder = model_folder(Path(model_dir) if model_dir else None, CPT_NAME, how)
    model, _ = load_lm(folder)
    gemma = isinstance(model, GemmaLM)
    try:
        shape = geometry(model)
    except ValueError as error:
        raise RetinueError(f"{folder}: {error}") from None
    if target_attn_dim < shape.head_dim or target_attn_dim % shape.head_dim:
        raise RetinueError(f"--target-attn-dim must be a positive multiple of the head size {shape.head_dim}")
    target_heads = target_attn_dim // shape.head_dim
    try:
        check_targets(shape, target_heads, target_mlp_dim)
    except ValueError as error:
        raise RetinueError(f"--target-attn-dim / --target-mlp-dim: {error}") from None
    lr = lr if lr is not None else 1e-4 if gemma else 1e-3
    batch_size = batch_size if batch_size is not None else 4 if gemma else 16
    calib_blocks = calib_blocks if calib_blocks is not None else 32 if gemma else 128
    held_blocks = held_blocks if held_blocks is not None else 64 if gemma else 256
    if rounds < 1 or retrain_steps < 0 or min(batch_size, calib_blocks, held_blocks, timing_repeats) < 1:
        raise RetinueError(
            "--rounds, --batch, --calib-blocks, --held-blocks and --timing-repeats must be at least 1, "
            "--retrain-steps at least 0"
        )
    calib = calib or data_root(data_dir) / "italian" / "e3c_it.jsonl"
    train_texts, held_texts = split_documents(read_texts(calib), 0.05, seed)
    seq = min(128, model.max_seq)
    retrain = pack(train_texts, seq, max_blocks=4000, tokenizer=model.tokenizer)
    held = pack(held_texts, seq, max_blocks=held_blocks, tokenizer=model.tokenizer)
    order = torch.randperm(len(retrain), generator=torch.Generator().manual_seed(seed))
    calibration = retrain[order[:calib_blocks]]
    config = {"model": str(folder), "target_attn_dim": target_attn_dim, "target_mlp_dim": target_mlp_dim,
              "rounds": rounds, "retrain_steps": retrain_steps, "lr": lr, "batch": batch_size,
              "calib_blocks": calib_blocks, "held_blocks": held_blocks, "calib": str(calib), "seed": seed}  # fmt: skip
    run = RunDirectory.create("train transact", config, out_dir, runs_root())
    started = time.perf_counter()

    def describe(m: Any) -> dict[str, float]:
        return {
            "parameters": m.parameters_count(),
            "kv_cache_bytes": m.kv_cache_bytes(seq),
            "tokens_per_second": round(tokens_per_second(m, held[:8], timing_repeats), 1),
            "perplexity": round(perplexity(m, held), 3),
        }

    with progress_bars(console=err) as bar:
        with err.status("measuring the original model"):
            metrics: dict[str, Any] = {f"original_{k}": v for k, v in describe(model).items()}
        for method in METHODS if compare else ("transact",):
            task = bar.add_task(f"{method} pruning", total=rounds)
            if method != METHODS[0]:
                model, _ = load_lm(folder)
            if isinstance(model, GemmaLM):
                model.freeze_embeddings()
            pruned = transact(
                model, method, target_heads, target_mlp_dim, rounds=rounds, calib=calibration, retrain=retrain,
                retrain_steps=retrain_steps, lr=lr, batch_size=batch_size, seed=seed, progress=_advance(bar, task),
            )  # fmt: skip
            metrics |= {f"{method}_{k}": v for k, v in describe(pruned).items()}
            if method == "transact":
                card = lm_card(
                    pruned, "TransAct structured pruning", f"calibration and retraining on {calib}",
                    "fine-tuning (structured pruning with retraining)", base=str(folder), pruning=config,
                )  # fmt: skip
                _save(pruned, run.path / "model", card)
    if gemma:
        register(TRANSACT_GEMMA_NAME, run.path / "model")
    complete_run(run, metrics, round(time.perf_counter() - started, 1))
    err.print(f"pruned model: {run.path / 'model'}")


def _save(model: Any, folder: Path, card: dict[str, Any]) -> None:
    from retinue.training.lm.train import save_lm

    with err.status(f"saving the model to {folder}"):
        save_lm(model, folder, card)


def _advance(bar: Any, task: Any) -> Any:
    return lambda done, _: bar.update(task, completed=done)


def train_iclguard(
    target: Annotated[str, typer.Option(help="Data whose in-context learning is switched off: fpb|sst2|trec|agnews.")],
    model_dir: Annotated[
        str, typer.Option("--model", help="gemma-270m (the embedded Gemma 3 270M, in torch) or a model folder.")
    ] = "gemma-270m",
    prompts: Annotated[int, typer.Option(help="Target ICL prompts to train on (and as many of the other sets).")] = 64,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 100,
    batch_size: Annotated[int, typer.Option("--batch", help="Prompts of each kind per step.")] = 2,
    lr: Annotated[float, typer.Option(help="Learning rate of the LoRA parameters.")] = 1e-3,
    shots: Annotated[int, typer.Option(help="Demonstrations per ICL prompt.")] = 4,
    eval_queries: Annotated[int, typer.Option(help="Test queries per data set for ICL accuracy.")] = 100,
    held_blocks: Annotated[int, typer.Option(help="Held-out plain-text sequences for perplexity.")] = 32,
    plain: Annotated[
        Path | None, typer.Option(help="Plain text, JSONL, for the utility loss and perplexity (default: BBC news).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the splits, prompts and batches.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root (default: see README).")] = None,
    out_dir: RunDirOption = None,
) -> None:
    """ICLGuard: train LoRA adapters (rank 8, alpha 32, on q/k/v) on a frozen model so that in-context learning
    fails on the target data and still works on the other three sets. Reports ICL accuracy (with --shots
    demonstrations) on all four and plain-text perplexity, for the original and the guarded model; the guarded
    model (adapters merged) lands in RUN_DIR/model and, for Gemma, as model.gguf for the embedded chat model."""
    from rich.progress import TextColumn

    from retinue.datasets.classification import LOADERS, load_classification_set
    from retinue.models.registry import register
    from retinue.paths import data_root, runs_root
    from retinue.progress import default_columns, progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.lm.data import pack, read_texts, split_documents
    from retinue.training.lm.gemma import BASE_NAME, base_folder
    from retinue.training.lm.iclguard import (
        add_lora,
        guard_data,
        icl_prompts,
        icl_score,
        label_tokens,
        train_guard,
    )  # fmt: skip
    from retinue.training.lm.train import lm_card, load_lm, perplexity

    if target not in LOADERS:
        raise RetinueError(f"--target: {target!r} is not one of {', '.join(LOADERS)}")
    if min(prompts, steps, batch_size, shots, eval_queries, held_blocks) < 1:
        raise RetinueError("--prompts, --steps, --batch, --shots, --eval-queries and --held-blocks must be at least 1")
    root = data_root(data_dir)
    plain = plain or root / "text" / "bbc_news" / "bbc_news.jsonl"
    model, _ = load_lm(base_folder() if model_dir == BASE_NAME else Path(model_dir))
    sets = {name: load_classification_set(name, root, seed) for name in LOADERS}
    for data in sets.values():
        label_tokens(model.tokenizer, data.labels)  # labels this tokenizer cannot tell apart fail here
    plain_train, plain_held = split_documents(read_texts(plain), 0.1, seed)
    plain_blocks = pack(plain_train, 64, max_blocks=32, tokenizer=model.tokenizer)
    held = pack(plain_held, 128, max_blocks=held_blocks, tokenizer=model.tokenizer)
    evaluation = {n: icl_prompts(d.test, d.train, eval_queries, shots, seed + 100) for n, d in sets.items()}
    config = {"target": target, "model": model_dir, "plain": str(plain), "prompts": prompts, "steps": steps,
              "batch": batch_size, "lr": lr, "shots": shots, "eval_queries": eval_queries, "held_blocks": held_blocks,
              "seed": seed}  # fmt: skip
    run = RunDirectory.create("train iclguard", config, out_dir, runs_root())
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    with progress_bars(*default_columns(), TextColumn("{task.fields[note]}"), console=err) as bar:

        def measure(which: str, lm: Any) -> None:
            task = bar.add_task(f"ICL accuracy, {which} model", total=len(sets), note="")
            for name, data in sets.items():
                score = icl_score(lm, evaluation[name], data.labels)
                metrics[f"{name}_icl_accuracy_{which}"] = round(score.accuracy, 3)
                metrics[f"{name}_label_mass_{which}"] = round(score.label_mass, 3)
                bar.update(task, advance=1, note=f"{name} {score.accuracy:.2f}")
            metrics[f"plain_ppl_{which}"] = round(perplexity(lm, held), 3)

        measure("original", model)
        with err.status("computing the original model's outputs on the training prompts"):
            material = guard_data(
                model, sets[target], [d for n, d in sets.items() if n != target], plain_blocks,
                prompts=prompts, shots=shots, seed=seed,
            )  # fmt: skip
        guarded = add_lora(model)
        metrics["lora_parameters"] = sum(p.numel() for p in guarded.parameters() if p.requires_grad)
        task = bar.add_task("training the guard", total=steps, note="")
        history = train_guard(
            guarded, material, steps, batch=batch_size, lr=lr, seed=seed,  # type: ignore[arg-type]
            progress=lambda step, _, loss: bar.update(task, completed=step, note=f"loss {loss:.3f}"),
        )  # fmt: skip
        merged = guarded.merge_and_unload()  # type: ignore[operator]
        measure("guarded", merged)
    for loss in ("disable", "maintain", "utility"):
        metrics[f"{loss}_loss_first"] = round(history[0][loss], 4)
        metrics[f"{loss}_loss_last"] = round(sum(h[loss] for h in history[-10:]) / len(history[-10:]), 4)
    card = lm_card(
        merged, f"ICLGuard: in-context learning switched off on {target}",
        f"{prompts} {target} ICL prompts, {prompts} of the other sets, plain text {config['plain']}",
        "fine-tuning (LoRA r8 alpha 32 on q/k/v, merged)", base=model_dir, metrics=metrics,
    )  # fmt: skip
    _save(merged, run.path / "model", card)
    register(f"iclguard-{target}", run.path / "model")
    complete_run(run, metrics, round(time.perf_counter() - started, 1))
    err.print(f"guarded model: {run.path / 'model'}")
