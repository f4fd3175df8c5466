"""KBGN's commands: `train kbgn-data` (the generated visual-dialogue set), `train kbgn` and `eval kbgn`."""

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import RunDirOption, complete_run, err, out
from retinue.errors import RetinueError

KBGN_NAME = "kbgn"
DataOption = Annotated[Path, typer.Option("--data", help="A folder made by `retinue train kbgn-data`.")]


def make_kbgn_data(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the data set.")],
    train: Annotated[int, typer.Option(help="Training dialogs (6 rounds each).")] = 2000,
    val: Annotated[int, typer.Option(help="Validation dialogs.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the scenes, the dialogues and the region CNN.")] = 0,
) -> None:
    """Generate a visual-dialogue set: rendered scenes of simple objects, their region features from a small
    CNN trained on the training crops, captions, 6 templated rounds per dialog that need the picture and the
    history, 100 candidate answers per round."""
    from retinue.training.kbgn.dataset import make_dataset

    if train < 1 or val < 1:
        raise RetinueError("--train and --val must be at least 1")
    if (out_dir / "dataset.json").exists():
        raise RetinueError(f"{out_dir} already holds a data set; give a new --out")
    err.print(f"generating {train} + {val} dialogs and training the region CNN...")
    started = time.perf_counter()
    record = make_dataset(out_dir, train, val, seed)
    err.print(f"data set: {out_dir} ({time.perf_counter() - started:.1f} s)")
    out.print(f"vocabulary: {len(record['vocabulary'])} words; answer phrasings: {len(record['answer_pool'])}")


def train_kbgn(
    data: DataOption,
    epochs: Annotated[int, typer.Option(help="Passes over the training rounds.")] = 8,
    ablation: Annotated[str, typer.Option(help="full | no-bridge | no-gate | question-only.")] = "full",
    seed: Annotated[int, typer.Option(help="Seed of the weights and the batches.")] = 0,
    name: Annotated[str | None, typer.Option(help="Register the model under this name (default: kbgn).")] = None,
    out_dir: RunDirOption = None,
) -> None:
    """Train KBGN (or an ablation) on a generated set and print its validation metrics: MRR, R@1/5/10, mean
    rank, NDCG. The model lands in RUN_DIR/model and is registered."""
    from retinue.models.registry import register
    from retinue.paths import runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.kbgn.dataset import load_split
    from retinue.training.kbgn.train import ABLATIONS, evaluate, save_kbgn
    from retinue.training.kbgn.train import train_kbgn as train

    if ablation not in ABLATIONS:
        raise RetinueError(f"--ablation: {ablation!r} is not one of {', '.join(ABLATIONS)}")
    if epochs < 1:
        raise RetinueError("--epochs must be at least 1")
    train_set, validation = load_split(data, "train"), load_split(data, "val")
    config = {"data": str(data), "epochs": epochs, "ablation": ablation, "seed": seed}
    run = RunDirectory.create("train kbgn", config, out_dir, runs_root())
    started = time.perf_counter()
    with progress_bars(console=err) as bar:
        task = bar.add_task("training steps", total=None)
        model = train(
            train_set,
            ablation,
            epochs,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    seconds = round(time.perf_counter() - started, 1)
    metrics: dict[str, Any] = {**evaluate(model, validation), "train_seconds": seconds}
    card = {
        "task": "visual dialogue: rank 100 candidate answers given the scene, caption, history and question",
        "architecture": f"KBGN ({ablation}): LSTM text encoder, vision and text graphs, cross bridges, gates",
        "parameters": sum(p.numel() for p in model.parameters()),
        "training_data": f"{data}: {train_set.dialogs} generated dialogs x {train_set.rounds} rounds",
        "data_dir": str(data.resolve()),  # its vocabulary, answer pool and region CNN go with the model
        "validation": metrics,
    }
    save_kbgn(model, run.path / "model", card)
    register(name or KBGN_NAME, run.path / "model")
    complete_run(run, metrics, seconds)
    err.print(f"model: {run.path / 'model'} (registered as {name or KBGN_NAME!r})")


def eval_kbgn(
    data: DataOption,
    kbgn_model: Annotated[
        Path | None,
        typer.Option(
            help="A KBGN model: its folder, its training run, or a name (default: the one registered as kbgn)."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="train | val.")] = "val",
    out_dir: RunDirOption = None,
) -> None:
    """Rank every round's candidates with a trained KBGN: MRR, R@1/5/10, mean rank and NDCG, printed and
    written to RUN_DIR/metrics.json (one pass; nothing to resume)."""
    import time

    from retinue.models.registry import model_folder
    from retinue.paths import runs_root
    from retinue.runs.directory import RunDirectory
    from retinue.training.kbgn.dataset import load_split
    from retinue.training.kbgn.train import evaluate, load_kbgn

    how = "train one with `retinue train kbgn`, or give --kbgn-model DIR"
    folder = model_folder(kbgn_model, KBGN_NAME, how)
    model, card = load_kbgn(folder)
    data_set = load_split(data, split)
    if len(data_set.vocabulary.words) != card["config"]["vocab_size"]:
        raise RetinueError(f"{folder} was trained on a data set with another vocabulary than {data}")
    started = time.perf_counter()
    run = RunDirectory.create(
        "eval kbgn", {"data": str(data), "model": str(folder), "split": split}, out_dir, runs_root()
    )
    complete_run(run, evaluate(model, data_set), round(time.perf_counter() - started, 3))
