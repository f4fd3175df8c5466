"""`retinue train ...`: commands that train or select data for the project's local models."""

import json
import random
import time
from pathlib import Path
from typing import Annotated

import typer

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    ModelOptions,
    RunDirOption,
    command_group,
    complete_run,
    err,
    with_model_options,
)
from retinue.errors import RetinueError

train_app = command_group("Train local models or select their data.")


@train_app.command("zip-select")
def zip_select_command(
    pool: Annotated[Path, typer.Option(help="ShareGPT JSON list, or JSONL with a text field.")],
    budget: Annotated[int, typer.Option(help="How many items to select.")],
    k1: Annotated[int, typer.Option(help="Global stage: candidates by their last score.")] = 10_000,
    k2: Annotated[int, typer.Option(help="Coarse local stage: candidates kept after re-scoring.")] = 200,
    k3: Annotated[int, typer.Option(help="Fine local stage: items added one at a time per round.")] = 100,
    field: Annotated[str, typer.Option(help="JSONL: the field holding the text.")] = "text",
    seed: Annotated[int, typer.Option(help="Seed of the random subset compared against.")] = 0,
    out_dir: RunDirOption = None,
) -> None:
    """Select BUDGET items whose texts compress worst together (ZIP, the entropy law): less redundant data.
    Writes the selection in the pool's format (selected.json or selected.jsonl) and metrics.json with the
    compression ratio of the selection, of a random subset of the same size, and of the whole pool."""
    from retinue.jsonfiles import write_json_atomic
    from retinue.paths import runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.zip_select import compression_ratio, load_pool, zip_select

    items, texts, kind = load_pool(pool, field)
    if not 0 < budget <= len(items):
        raise RetinueError(f"--budget must be between 1 and the pool's {len(items)} items, not {budget}")
    config = {"pool": str(pool), "budget": budget, "k1": k1, "k2": k2, "k3": k3, "field": field, "seed": seed}
    run = RunDirectory.create("train zip-select", config, out_dir, runs_root())
    started = time.perf_counter()
    with progress_bars(console=err) as bar:
        task = bar.add_task("selecting", total=budget)
        selection = zip_select(texts, budget, k1, k2, k3, progress=lambda done, _: bar.update(task, completed=done))
    seconds = time.perf_counter() - started
    chosen = [items[i] for i in selection.indices]
    if kind == "sharegpt":
        write_json_atomic(run.path / "selected.json", chosen)
    else:
        (run.path / "selected.jsonl").write_text("".join(f"{json.dumps(i)}\n" for i in chosen))
    subset = random.Random(seed).sample(range(len(texts)), budget)
    metrics = {
        "selected_items": budget,
        "pool_items": len(items),
        "selected_compression_ratio": round(selection.ratio, 4),
        "random_compression_ratio": round(compression_ratio([texts[i] for i in subset]), 4),
        "pool_compression_ratio": round(compression_ratio(texts), 4),
        "selection_seconds": round(seconds, 3),
    }
    complete_run(run, metrics, round(seconds, 3))
    err.print(f"selection: {run.path}")


@train_app.command("sentiment")
def sentiment_command(
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding sentiment/ (default: see README).")] = None,
    epochs: Annotated[int, typer.Option(help="Full-batch training steps of the head.")] = 300,
    limit: Annotated[int | None, typer.Option(help="Train on at most this many examples (default: all).")] = None,
    eval_limit: Annotated[
        int | None, typer.Option(help="Evaluate on a seeded sample of at most this many texts per set (default: all).")
    ] = None,
    train_jsonl: Annotated[
        Path | None, typer.Option(help="Train on this labelled JSONL ({text, label}) instead, e.g. synthetic data.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the train/test split and the head.")] = 0,
    cartography_keep: Annotated[
        float,
        typer.Option(
            help="Keep this share of each label's training examples, the most confidently learnt "
            "(dataset cartography; SynthesizRR uses 0.83 on synthetic sets). 1 keeps all."
        ),
    ] = 1.0,
    name: Annotated[str, typer.Option(help="Register the model under this name (`retinue models`).")] = (
        "sentiment-student"
    ),
    out_dir: RunDirOption = None,
) -> None:
    """Train the financial-sentiment student (frozen MiniLM + softmax head) on Financial PhraseBank (a
    seeded 80/20 split) and evaluate it there and on the Twitter financial news validation split. The
    model lands in RUN_DIR/model; FinCon's news analyst uses it with `backtest --sentiment-model`."""
    from retinue.datasets.sentiment import (
        LABELS,
        financial_phrasebank,
        labelled_jsonl,
        phrasebank_split,
        twitter_financial_news,
    )
    from retinue.evaluation.classification import accuracy, macro_f1
    from retinue.memory.embeddings import embed
    from retinue.models.registry import register
    from retinue.models.student import StudentClassifier
    from retinue.paths import data_root, runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.training.cartography import keep_most_confident, training_dynamics
    from retinue.training.student import train_head

    root = data_root(data_dir)
    examples = financial_phrasebank(root)
    tweets = twitter_financial_news(root, "valid")
    if epochs < 1 or (limit is not None and limit < len(LABELS)):
        raise RetinueError("--epochs must be at least 1 and --limit at least the number of labels")
    if eval_limit is not None and eval_limit < 1:
        raise RetinueError("--eval-limit must be at least 1")
    train, test = phrasebank_split(examples, seed)
    if eval_limit is not None:
        test, tweets = (random.Random(seed).sample(d, min(eval_limit, len(d))) for d in (test, tweets))
    if train_jsonl is not None:
        train = labelled_jsonl(train_jsonl, LABELS)
    train = train[:limit]
    if not 0 < cartography_keep <= 1:
        raise RetinueError(f"--cartography-keep: {cartography_keep} is not in (0, 1]")
    config = {"data_dir": str(root), "epochs": epochs, "limit": limit, "eval_limit": eval_limit, "seed": seed,
              "train_jsonl": str(train_jsonl), "cartography_keep": cartography_keep}  # fmt: skip
    run = RunDirectory.create("train sentiment", config, out_dir, runs_root())
    started = time.perf_counter()
    err.print(f"embedding {len(train)} training, {len(test)} test and {len(tweets)} tweet texts with MiniLM")
    features = embed([t for t, _ in train])
    metrics: dict[str, float] = {"train_examples": len(train)}
    if cartography_keep < 1:
        labels = [label for _, label in train]
        dynamics = training_dynamics(features, labels, LABELS, epochs, seed)
        kept = keep_most_confident(labels, dynamics.confidence, cartography_keep)
        train, features = [train[i] for i in kept], features[kept]
        metrics["cartography_kept"] = len(train)
    weight, bias = train_head(features, [label for _, label in train], LABELS, epochs, seed)
    model = StudentClassifier(list(LABELS), weight, bias, {})
    majority = max(LABELS, key=[label for _, label in train].count)
    for part, data in (("phrasebank_test", test), ("twitter_valid", tweets)):
        gold = [label for _, label in data]
        predicted = model.predict([t for t, _ in data])
        metrics[f"{part}_accuracy"] = round(accuracy(gold, predicted), 4)
        metrics[f"{part}_macro_f1"] = round(macro_f1(gold, predicted, LABELS), 4)
        metrics[f"{part}_majority_accuracy"] = round(accuracy(gold, [majority] * len(gold)), 4)
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    model.card = {
        "task": "financial sentiment (negative / neutral / positive)",
        "architecture": "all-MiniLM-L6-v2 sentence embeddings (frozen) + softmax regression head",
        "parameters": int(weight.numel() + bias.numel()),
        "training_data": (
            f"{train_jsonl}, {len(train)} examples"
            if train_jsonl
            else f"Financial PhraseBank 50% agreement, seeded 80% split (seed {seed}), {len(train)} examples"
        )
        + (f", the {cartography_keep:.0%} most confident of each label (cartography)" if cartography_keep < 1 else ""),
        "taxonomy": {
            "representation": "contextual",
            "architecture": "Transformer encoder (frozen) + linear head",
            "pretraining_task": "masked language modelling, then contrastive sentence-pair learning",
            "adaptation": "feature extraction",
        },
        "metrics": metrics,
    }
    model.save(run.path / "model")
    register(name, run.path / "model")
    complete_run(run, metrics, metrics["seconds"])
    err.print(f"model: {run.path / 'model'} (retinue backtest --method fincon --sentiment-model {run.path / 'model'})")


@train_app.command("synthesize")
@with_model_options
def synthesize_command(
    method: Annotated[str, typer.Option(help="synthesizrr (retrieve, then refine) | few-shot (no retrieval).")] = (
        "synthesizrr"
    ),
    seeds_per_class: Annotated[
        int, typer.Option(help="Seed sentences per label, from the PhraseBank train split.")
    ] = 10,
    per_seed: Annotated[int, typer.Option(help="Examples to write per seed.")] = 1,
    corpus_size: Annotated[int, typer.Option(help="Market news items to retrieve from (seeded sample).")] = 3000,
    reference_model: Annotated[
        Path | None, typer.Option(help="A `train sentiment` model that scores label preservation.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data root (default: see README).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the seeds, the corpus sample and the demonstrations.")] = 0,
    out_dir: RunDirOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Synthesise a labelled financial-sentiment set with the teacher model (the embedded one by default):
    SynthesizRR grounds each new example in a related market-news item, few-shot does not. Writes
    synthetic.jsonl and metrics.json (size, distinct-1/2, self-BLEU, entity entropy, label preservation,
    model calls); train a student on it with `retinue train sentiment --train-jsonl RUN_DIR/synthetic.jsonl`."""
    from retinue.datasets.market_text import NEWS_FILE, read_news
    from retinue.datasets.sentiment import LABELS, financial_phrasebank, phrasebank_split
    from retinue.evaluation.classification import accuracy
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.models.student import StudentClassifier
    from retinue.paths import data_root, runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.training import synthesizrr as synth

    if method not in ("synthesizrr", "few-shot"):
        raise RetinueError(f"--method: {method!r} is neither synthesizrr nor few-shot")
    if seeds_per_class < 1 or per_seed < 1 or corpus_size < 1:
        raise RetinueError("--seeds-per-class, --per-seed and --corpus-size must be at least 1")
    root = data_root(data_dir)
    reference = StudentClassifier.load(reference_model) if reference_model else None
    llm_config = models.settings()
    teacher_config = llm_config.model_copy(update={"temperature": 0.95, "top_p": 0.9})
    train, _ = phrasebank_split(financial_phrasebank(root), seed=0)  # the split `train sentiment` tests on
    rng = random.Random(seed)
    seeds = [
        example for label in LABELS for example in rng.sample([e for e in train if e[1] == label], seeds_per_class)
    ]
    run = RunDirectory.create(
        "train synthesize",
        {
            "method": method,
            "seeds_per_class": seeds_per_class,
            "per_seed": per_seed,
            "corpus_size": corpus_size,
            "seed": seed,
            "llm": llm_config.model_dump(mode="json"),
        },
        out_dir,
        runs_root(),
    )
    usage = UsageRecorder()
    teacher = run_chat_model(teacher_config, usage)
    started = time.perf_counter()
    if method == "synthesizrr":
        news = [item.text for item in read_news(root / "market" / NEWS_FILE, {"TSLA", "AAPL", "MSFT", "GOOG", "AMZN"})]
        documents = random.Random(seed).sample(news, min(corpus_size, len(news)))
        err.print(f"indexing {len(documents)} news items, then writing {len(seeds) * per_seed} examples")
        corpus = synth.Corpus(documents)
        examples = synth.synthesize(seeds, corpus, teacher, teacher_config, usage, per_seed, seed)
    else:
        examples = synth.few_shot(seeds, teacher, teacher_config, usage, per_seed, seed)
    texts = [e.text for e in examples]
    (run.path / "synthetic.jsonl").write_text(
        "".join(
            json.dumps({"text": e.text, "label": e.label, "seed": e.seed, "document": e.document}) + "\n"
            for e in examples
        )
    )
    total = usage.to_dict()["total"]
    metrics: dict[str, float] = {
        "examples": len(examples),
        "distinct_1": round(synth.distinct_n(texts, 1), 4),
        "distinct_2": round(synth.distinct_n(texts, 2), 4),
        "self_bleu": round(synth.self_bleu(texts), 4),
        "entity_entropy": round(synth.entity_entropy(texts), 4),
        "llm_calls": total["calls"],
        "fallbacks": total["fallbacks"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    if reference is not None and examples:
        metrics["label_preservation"] = round(accuracy([e.label for e in examples], reference.predict(texts)), 4)
    usage.save(run.usage_path)
    complete_run(run, metrics, metrics["seconds"])
    err.print(f"synthetic set: {run.path / 'synthetic.jsonl'}")
