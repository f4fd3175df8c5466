"""`retinue train cpt`: domain continual pretraining of a decoder LM (Igea-style), with perplexity on held-out
domain and general text before and after."""

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import err, out
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
    run.write_metrics(metrics)
    run.update_record(status="completed", duration_seconds=seconds)
    for key, value in metrics.items():
        out.print(f"{key}: {value}")
    err.print(f"model: {run.path / 'model'}")
