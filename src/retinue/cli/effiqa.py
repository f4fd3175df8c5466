"""EffiQA's commands: `train explorer`, `eval effiqa` and `ask-kg`."""

from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    DbOption,
    ModelOptions,
    ResumeOption,
    RunDirOption,
    complete_run,
    err,
    out,
    print_usage,
    run_scenario,
    with_model_options,
)
from retinue.errors import RetinueError
from retinue.scenarios.effiqa import EXPLORER_NAME, seeded_sample

DataDirOption = Annotated[Path | None, typer.Option(help="Data root holding metaqa/ (default: see README).")]
KGOption = Annotated[Path | None, typer.Option("--kg", help="Knowledge graph: kb.txt or RDF (default: MetaQA).")]
ExplorerOption = Annotated[
    Path | None, typer.Option(help=f"Plug-in model folder (default: the registered {EXPLORER_NAME!r}).")
]


def train_explorer(
    data_dir: DataDirOption = None,
    epochs: Annotated[int, typer.Option(help="Passes over the training examples.")] = 10,
    limit: Annotated[int | None, typer.Option(help="Train on at most this many questions per hop.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the dev split (eval must use the same) and of training.")] = 0,
    name: Annotated[str, typer.Option(help="Register the model under this name.")] = EXPLORER_NAME,
    out_dir: RunDirOption = None,
) -> None:
    """Train EffiQA's plug-in explorer on the gold relation paths of the train part of MetaQA dev (a seeded
    80/20 split of 1-, 2- and 3-hop questions) and print its path accuracy on the validation part. The
    model lands in RUN_DIR/model and is registered, so `eval effiqa` finds it."""
    from retinue.envs.kgqa import HOPS, metaqa_questions, split_dev
    from retinue.envs.knowledge_graph import KnowledgeGraph
    from retinue.models.registry import register
    from retinue.paths import data_root, runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.training.kg_explorer import train_explorer as train

    if epochs < 1 or (limit is not None and limit < 1):
        raise RetinueError("--epochs and --limit must be at least 1")
    root = data_root(data_dir)
    train_set, validation = [], []
    for hops in HOPS:
        part_train, part_validation = split_dev(metaqa_questions(root, hops), seed)
        train_set += seeded_sample(part_train, limit, seed)
        validation += seeded_sample(part_validation, limit, seed)
    kg = KnowledgeGraph.load(root / "metaqa" / "kb.txt")
    config = {"data_dir": str(root), "epochs": epochs, "limit": limit, "seed": seed}
    run = RunDirectory.create("train explorer", config, out_dir, runs_root())
    with progress_bars(console=err) as bar:
        tasks: dict[str, Any] = {}

        def progress(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done)

        model, metrics = train(train_set, validation, kg.steps, epochs=epochs, seed=seed, progress=progress)
    model.card |= {
        "task": "EffiQA plug-in explorer: scores the next relation of a question's path (or stop)",
        "architecture": "all-MiniLM-L6-v2 embeddings (frozen) of question and steps + one-hidden-layer scorer",
        "parameters": sum(p.numel() for p in model.scorer.parameters()),
        "training_data": f"MetaQA dev, train part of the seeded 80/20 split (seed {seed}), {len(train_set)} questions",
        "split_seed": seed,
        "taxonomy": {
            "representation": "contextual",
            "architecture": "Transformer encoder (frozen) + MLP scorer",
            "pretraining_task": "masked language modelling, then contrastive sentence-pair learning",
            "adaptation": "feature extraction",
        },
    }
    model.save(run.path / "model")
    register(name, run.path / "model")
    complete_run(run, metrics, metrics["seconds"])
    err.print(f"model: {run.path / 'model'} (registered as {name!r})")


@with_model_options
def eval_effiqa(
    method: Annotated[str, typer.Option(help="effiqa | tog | io | plugin.")] = "effiqa",
    hops: Annotated[int, typer.Option(help="MetaQA questions of 1, 2 or 3 hops.")] = 1,
    variant: Annotated[
        str, typer.Option(help="MetaQA's questions as written (vanilla) or paraphrased (ntm, 1-hop only).")
    ] = "vanilla",
    questions_file: Annotated[
        Path | None, typer.Option("--questions", help="Questions in MetaQA's format instead of MetaQA dev.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate a seeded sample of this many questions.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the dev split (as the explorer was trained) and the sample.")] = 0,
    data_dir: DataDirOption = None,
    kg: KGOption = None,
    explorer: ExplorerOption = None,
    db: DbOption = None,
    out_dir: RunDirOption = None,
    resume: ResumeOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Answer knowledge-graph questions with EffiQA or a baseline and score them: metrics.json (Hits@1 on all
    and on answerable questions, LLM calls, tokens and seconds per question) and predictions.jsonl. By
    default: a seeded sample of the validation part of MetaQA dev, which the explorer never trained on."""
    from retinue.agents.effiqa import METHODS
    from retinue.postgres import check_db_url
    from retinue.scenarios import EffiQAScenario

    scenario = None
    if resume is None:
        if method not in METHODS:
            raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
        if limit is not None and limit < 1:
            raise RetinueError("--limit must be at least 1")
        if variant not in ("vanilla", "ntm") or (variant == "ntm" and hops != 1):
            raise RetinueError(f"--variant: {variant!r} is not vanilla, or ntm with --hops 1")
        scenario = EffiQAScenario(
            method=method,  # type: ignore[arg-type]
            hops=hops,
            variant=variant,  # type: ignore[arg-type]
            questions_file=questions_file,
            limit=limit,
            seed=seed,
            data_dir=data_dir,
            kg=kg,
            explorer=explorer,
            llm=models.settings(default_model=False),
            db=check_db_url(db),
        )
    result = run_scenario(scenario, out_dir=out_dir, resume=resume)
    for key, value in result.metrics.items():
        out.print(f"{key}: {value}")
    print_usage(result.usage)
    err.print(f"run directory: {result.path}")


@with_model_options
def ask_kg(
    question: Annotated[str, typer.Argument(help="The question; a [bracketed] name marks its topic entity.")],
    kg: KGOption = None,
    method: Annotated[str, typer.Option(help="effiqa | tog | io | plugin.")] = "effiqa",
    data_dir: DataDirOption = None,
    explorer: ExplorerOption = None,
    out_dir: RunDirOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Answer one question over a knowledge graph (MetaQA's by default) and print the reasoning path and the
    triples that support the answer."""
    from retinue.agents.effiqa import METHODS
    from retinue.scenarios import EffiQAScenario

    if method not in METHODS:
        raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    if not question.strip():
        raise RetinueError("the question is empty")
    scenario = EffiQAScenario(
        method=method,  # type: ignore[arg-type]
        questions=[{"text": question.strip(), "answers": [], "answerable": None}],
        data_dir=data_dir,
        kg=kg,
        explorer=explorer,
        llm=models.settings(default_model=False),
    )
    result = run_scenario(scenario, out_dir=out_dir, command="ask-kg")
    answer = result.final["results"][0]
    if answer["prediction"] is None:
        out.print(f"no answer: {answer['note']}", markup=False, highlight=False)
    else:
        out.print(answer["prediction"], markup=False, highlight=False)
        if answer["path"]:
            out.print(f"path: {' / '.join(answer['path'])}", markup=False, highlight=False)
        for chain in answer["supporting"]:
            out.print("  " + "  ->  ".join(f"({h}, {r}, {t})" for h, r, t in chain), markup=False, highlight=False)
    print_usage(result.usage)
    err.print(f"run directory: {result.path}")
