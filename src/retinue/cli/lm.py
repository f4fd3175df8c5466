"""`retinue train cpt`: domain continual pretraining of a decoder LM (Igea-style), with perplexity on held-out
domain and general text before and after."""

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import complete_run, err
from retinue.errors import RetinueError

CPT_NAME = "cpt-tiny"


def _general_split(path: Path, seed: int) -> tuple[list[str], list[str]]:
    """UD-style files carry a split field (dev for training, test held out); others are split 90/10."""
    from retinue.training.lm.data import read_texts, split_documents

    try:
        return read_texts(path, split="dev"), read_texts(path, split="test")
    except RetinueError:
        return split_documents(read_texts(path), 0.1, seed)


def train_cpt(
    base: Annotated[
        str, typer.Option(help="tiny (a small decoder pretrained here on --general) or a model folder.")
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
    lr: Annotated[float, typer.Option(help="Peak learning rate (warmup, then cosine to a tenth).")] = 3e-3,
    seed: Annotated[int, typer.Option(help="Seed of the splits, the weights and the batches.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding italian/ (default: see README).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
) -> None:
    """Continue pretraining a decoder LM on domain text and report perplexity on held-out domain text (5 % of
    the domain documents) and on held-out general text, before and after: the domain gain and the
    forgetting. The model lands in RUN_DIR/model (and, for --base tiny, the base in RUN_DIR/base)."""
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from retinue.paths import data_root, runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.tools.registry import register
    from retinue.training.lm.data import pack, read_texts, split_documents
    from retinue.training.lm.model import DecoderConfig, DecoderLM
    from retinue.training.lm.train import load_lm, perplexity, save_lm, train_lm

    if steps < 1 or base_steps < 1 or seq < 8 or batch_size < 1:
        raise RetinueError("--steps, --base-steps and --batch must be at least 1, --seq at least 8")
    if not 0 <= replay <= 0.9:
        raise RetinueError(f"--replay: {replay} is outside 0..0.9")
    if domain is None or general is None:
        root = data_root(data_dir)
        domain, general = (
            domain or root / "italian" / "e3c_it.jsonl",
            general or root / "italian" / "ud_isdt_sentences.jsonl",
        )
    loaded = None
    if base != "tiny":  # a bad base fails before any run directory is made
        loaded, _ = load_lm(Path(base))
        if loaded.config.max_seq < seq:
            raise RetinueError(f"--seq {seq} is longer than the base model's {loaded.config.max_seq}")
    domain_train, domain_held = split_documents(read_texts(domain), 0.05, seed)
    general_train, general_held = _general_split(general, seed)
    blocks = {
        "domain": pack(domain_train, seq),
        "domain_held": pack(domain_held, seq, max_blocks=256),
        "general": pack(general_train, seq),
        "general_held": pack(general_held, seq, max_blocks=256),
    }
    config = {
        "base": base, "domain": str(domain), "general": str(general), "steps": steps, "base_steps": base_steps,
        "replay": replay, "seq": seq, "batch": batch_size, "lr": lr, "seed": seed,
    }  # fmt: skip
    run = RunDirectory.create("train cpt", config, out_dir, runs_root())
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=err) as bar:

        def follow(name: str, total: int) -> Any:
            task = bar.add_task(name, total=total, loss="-")
            return lambda step, _, loss: bar.update(task, completed=step, loss=f"{loss:.3f}")

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
        "seconds": seconds,
    }
    save_lm(
        model, run.path / "model", {"task": "domain continual pretraining", "domain": str(domain), "metrics": metrics}
    )
    if base == "tiny":
        register(CPT_NAME, run.path / "model")
    complete_run(run, metrics, seconds)
    err.print(f"model: {run.path / 'model'}")


def train_transact(
    model_dir: Annotated[
        Path | None, typer.Option("--model", help="A decoder model folder (default: cpt-tiny).")
    ] = None,
    target_attn_dim: Annotated[int, typer.Option(help="Attention inner width per layer (heads x head_dim).")] = 64,
    target_mlp_dim: Annotated[int, typer.Option(help="MLP intermediate width per layer.")] = 176,
    rounds: Annotated[int, typer.Option(help="Pruning rounds, each followed by a short retraining.")] = 3,
    retrain_steps: Annotated[int, typer.Option(help="Retraining steps after each round.")] = 40,
    calib: Annotated[
        Path | None, typer.Option(help="Calibration and retraining text, JSONL (default: italian/e3c_it.jsonl).")
    ] = None,
    compare: Annotated[bool, typer.Option(help="Also prune by magnitude and at random to the same widths.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the split, the retraining and the random baseline.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding italian/ (default: see README).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
) -> None:
    """TransAct structured pruning: keep the hidden width, shrink each layer's attention (whole heads) and MLP
    to the target widths by calibration-activation importance, iteratively with retraining. Reports
    parameters, KV-cache size, tokens/s and held-out perplexity before and after (and for magnitude and
    random pruning to the same widths); the pruned model lands in RUN_DIR/model."""
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from retinue.paths import data_root, runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.tools.registry import model_folder
    from retinue.training.lm.data import pack, read_texts, split_documents
    from retinue.training.lm.train import load_lm, perplexity, save_lm
    from retinue.training.lm.transact import METHODS, tokens_per_second, transact

    folder = model_folder(model_dir, CPT_NAME, "train one with `retinue train cpt`, or give --model DIR")
    model, _ = load_lm(folder)
    head_dim = model.config.head_dim
    if target_attn_dim < head_dim or target_attn_dim % head_dim:
        raise RetinueError(f"--target-attn-dim must be a positive multiple of the head size {head_dim}")
    target_heads = target_attn_dim // head_dim
    if target_heads > min(model.config.heads) or not 0 < target_mlp_dim <= min(model.config.mlp_dims):
        raise RetinueError(
            f"targets must not exceed the model's widths (heads {model.config.heads}, MLP {model.config.mlp_dims})"
        )
    if rounds < 1 or retrain_steps < 0:
        raise RetinueError("--rounds must be at least 1 and --retrain-steps at least 0")
    calib = calib or data_root(data_dir) / "italian" / "e3c_it.jsonl"
    train_texts, held_texts = split_documents(read_texts(calib), 0.05, seed)
    seq = min(128, model.config.max_seq)
    retrain, held = pack(train_texts, seq, max_blocks=4000), pack(held_texts, seq, max_blocks=256)
    calibration = retrain[torch.randperm(len(retrain), generator=torch.Generator().manual_seed(seed))[:128]]
    config = {"model": str(folder), "target_attn_dim": target_attn_dim, "target_mlp_dim": target_mlp_dim,
              "rounds": rounds, "retrain_steps": retrain_steps, "calib": str(calib), "seed": seed}  # fmt: skip
    run = RunDirectory.create("train transact", config, out_dir, runs_root())
    started = time.perf_counter()

    def describe(m: Any) -> dict[str, float]:
        return {
            "parameters": m.parameters_count(),
            "kv_cache_bytes": m.kv_cache_bytes(seq),
            "tokens_per_second": round(tokens_per_second(m, held[:32]), 1),
            "perplexity": round(perplexity(m, held), 3),
        }

    metrics: dict[str, Any] = {f"original_{k}": v for k, v in describe(model).items()}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        for method in METHODS if compare else ("transact",):
            task = bar.add_task(f"{method} pruning", total=rounds)
            pruned = transact(
                load_lm(folder)[0], method, target_heads, target_mlp_dim, rounds=rounds, calib=calibration,
                retrain=retrain, retrain_steps=retrain_steps, seed=seed, progress=_advance(bar, task),
            )  # fmt: skip
            metrics |= {f"{method}_{k}": v for k, v in describe(pruned).items()}
            if method == "transact":
                card = {"task": "TransAct-pruned decoder", "from": str(folder), "pruning": config}
                save_lm(pruned, run.path / "model", card)
    complete_run(run, metrics, round(time.perf_counter() - started, 1))
    err.print(f"pruned model: {run.path / 'model'}")


def _advance(bar: Any, task: Any) -> Any:
    return lambda done, _: bar.update(task, completed=done)
