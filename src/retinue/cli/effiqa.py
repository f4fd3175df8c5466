"""EffiQA's commands: `train explorer`, `eval effiqa` and `ask-kg`."""

from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import (
    BaseUrlOption,
    ConfigOption,
    DbOption,
    LLMOption,
    ModelOption,
    NoCacheOption,
    ResumeOption,
    RunDirOption,
    ScriptOption,
    chat_model_settings,
    complete_run,
    err,
    out,
    print_usage,
    run_chat_model,
)
from retinue.errors import RetinueError

EXPLORER_NAME = "kg-explorer"
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
    from retinue.paths import data_root, runs_root
    from retinue.progress import progress_bars
    from retinue.runs.directory import RunDirectory
    from retinue.tools.knowledge_graph import KnowledgeGraph
    from retinue.tools.registry import register
    from retinue.training.kg_explorer import train_explorer as train

    if epochs < 1 or (limit is not None and limit < 1):
        raise RetinueError("--epochs and --limit must be at least 1")
    root = data_root(data_dir)
    train_set, validation = [], []
    for hops in HOPS:
        part_train, part_validation = split_dev(metaqa_questions(root, hops), seed)
        train_set += _sample(part_train, limit, seed)
        validation += _sample(part_validation, limit, seed)
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


def _sample(items: list[Any], count: int | None, seed: int) -> list[Any]:
    """`count` items drawn by `seed`, in their original order (all of them when count is None)."""
    import random

    if count is None or count >= len(items):
        return items
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), count))]


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
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    db: DbOption = None,
    out_dir: RunDirOption = None,
    resume: ResumeOption = None,
) -> None:
    """Answer knowledge-graph questions with EffiQA or a baseline and score them: metrics.json (Hits@1 on all
    and on answerable questions, LLM calls, tokens and seconds per question) and predictions.jsonl. By
    default: a seeded sample of the validation part of MetaQA dev, which the explorer never trained on."""
    from retinue.agents.effiqa import METHODS
    from retinue.config import LLMConfig, validate_config
    from retinue.paths import data_root, runs_root
    from retinue.postgres import check_db_url
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.resume(resume, "eval effiqa")
        saved: dict[str, Any] = run.config()
        llm_config = validate_config(LLMConfig, saved["llm"], source=f"{run.config_path} [llm]")
    else:
        if method not in METHODS:
            raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
        if limit is not None and limit < 1:
            raise RetinueError("--limit must be at least 1")
        root = data_root(data_dir) if questions_file is None or kg is None else None
        if variant not in ("vanilla", "ntm") or (variant == "ntm" and hops != 1):
            raise RetinueError(f"--variant: {variant!r} is not vanilla, or ntm with --hops 1")
        picked = _pick_questions(root, hops, variant, questions_file, limit, seed)
        llm_config = chat_model_settings(config, llm, model, base_url, script, no_cache)
        saved = {
            "method": method,
            "hops": None if questions_file else hops,
            "variant": None if questions_file else variant,
            "questions_file": str(questions_file) if questions_file else None,
            "seed": seed,
            "kg": str(kg or root / "metaqa" / "kb.txt"),  # type: ignore[operator]
            "explorer": str(explorer_folder(explorer)) if method in ("effiqa", "plugin") else None,
            "questions": picked,
            "llm": llm_config.model_dump(mode="json"),
            "db": check_db_url(db),
        }
        _check_split(saved)
        run = RunDirectory.create("eval effiqa", saved, out_dir, runs_root())
    final, usage = _answer(run, saved, llm_config, resume=resume is not None)
    _report(run, saved, final["results"], usage)


def ask_kg(
    question: Annotated[str, typer.Argument(help="The question; a [bracketed] name marks its topic entity.")],
    kg: KGOption = None,
    method: Annotated[str, typer.Option(help="effiqa | tog | io | plugin.")] = "effiqa",
    data_dir: DataDirOption = None,
    explorer: ExplorerOption = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    out_dir: RunDirOption = None,
) -> None:
    """Answer one question over a knowledge graph (MetaQA's by default) and print the reasoning path and the
    triples that support the answer."""
    from retinue.agents.effiqa import METHODS
    from retinue.paths import data_root, runs_root
    from retinue.runs.directory import RunDirectory

    if method not in METHODS:
        raise RetinueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    if not question.strip():
        raise RetinueError("the question is empty")
    llm_config = chat_model_settings(config, llm, model, base_url, script, no_cache)
    saved: dict[str, Any] = {
        "method": method,
        "kg": str(kg or data_root(data_dir) / "metaqa" / "kb.txt"),
        "explorer": str(explorer_folder(explorer)) if method in ("effiqa", "plugin") else None,
        "questions": [{"text": question.strip(), "answers": [], "answerable": None}],
        "llm": llm_config.model_dump(mode="json"),
    }
    run = RunDirectory.create("ask-kg", saved, out_dir, runs_root())
    final, usage = _answer(run, saved, llm_config, resume=False)
    result = final["results"][0]
    if result["prediction"] is None:
        out.print(f"no answer: {result['note']}", markup=False, highlight=False)
    else:
        out.print(result["prediction"], markup=False, highlight=False)
        if result["path"]:
            out.print(f"path: {' / '.join(result['path'])}", markup=False, highlight=False)
        for chain in result["supporting"]:
            out.print("  " + "  ->  ".join(f"({h}, {r}, {t})" for h, r, t in chain), markup=False, highlight=False)
    print_usage(usage.to_dict())
    err.print(f"run directory: {run.path}")


def _pick_questions(
    root: Path | None, hops: int, variant: str, questions_file: Path | None, limit: int | None, seed: int
) -> list[dict[str, Any]]:
    from retinue.envs.kgqa import metaqa_questions, read_questions, split_dev

    if questions_file is not None:
        chosen = _sample(read_questions(questions_file), limit, seed)
    else:
        # The split is by question index, so the paraphrased (ntm) questions split as the vanilla ones do.
        _, validation = split_dev(metaqa_questions(root, hops, variant), seed)  # type: ignore[arg-type]
        chosen = _sample(validation, limit, seed)
    return [{"id": q.id, "text": q.text, "answers": list(q.answers), "answerable": q.answerable} for q in chosen]


def explorer_folder(explorer: Path | None) -> Path:
    from retinue.tools.registry import model_folder

    how = "train one with `retinue train explorer`, or give --explorer MODEL_DIR"
    return model_folder(explorer, EXPLORER_NAME, how)


def _check_split(saved: dict[str, Any]) -> None:
    """An explorer trained on another split of MetaQA dev would be tested on its own training questions."""
    from retinue.training.kg_explorer import ExplorerModel

    if saved["explorer"] is None or saved["questions_file"] is not None:
        return
    trained_on = ExplorerModel.load(Path(saved["explorer"])).card.get("split_seed")
    if trained_on is not None and trained_on != saved["seed"]:
        raise RetinueError(
            f"the explorer was trained on the dev split of seed {trained_on}; evaluating with --seed {saved['seed']} "
            "would test it on questions it trained on. Use the same --seed, or retrain."
        )


def _answer(run: Any, saved: dict[str, Any], llm_config: Any, resume: bool) -> tuple[dict[str, Any], Any]:
    from retinue.agents.effiqa import EffiQAContext
    from retinue.graphs.effiqa import BUILDERS
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute
    from retinue.tools.kg_explorer import PathExplorer
    from retinue.tools.knowledge_graph import KnowledgeGraph
    from retinue.training.kg_explorer import ExplorerModel

    method = saved["method"]
    graph = KnowledgeGraph.load(Path(saved["kg"])) if method != "io" else None
    explorer = None
    if saved["explorer"] is not None and graph is not None:
        explorer = PathExplorer(graph, ExplorerModel.load(Path(saved["explorer"])))
    usage = UsageRecorder()
    chat_model = run_chat_model(llm_config, usage, saved.get("db"))
    context = EffiQAContext(llm=chat_model, usage=usage, llm_config=llm_config, kg=graph, explorer=explorer)
    texts = [q["text"] for q in saved["questions"]]
    try:
        final = execute(
            BUILDERS[method](),
            run=run,
            context=context,
            usage=usage,
            inputs={"questions": texts, "current": None, "results": []},
            resume=resume,
            recursion_limit=len(texts) * 12 + 10,
            console=err,
        )
    except KeyboardInterrupt:
        if run.record().get("command") == "eval effiqa":
            err.print(f"\ninterrupted; continue with: retinue eval effiqa --resume {run.path}")
        raise typer.Exit(130) from None
    return final, usage


def _report(run: Any, saved: dict[str, Any], results: list[dict[str, Any]], usage: Any) -> None:
    import json

    from retinue.evaluation.kgqa import hit, kgqa_metrics

    questions = saved["questions"]
    if len(results) != len(questions):
        raise RetinueError(f"{run.path} answered {len(results)} of {len(questions)} questions; --resume it")
    answerable = [q["answerable"] is not False for q in questions]
    metrics = kgqa_metrics(results, [q["answers"] for q in questions], answerable)
    with (run.path / "predictions.jsonl").open("w", encoding="utf-8") as lines:
        for q, r in zip(questions, results, strict=True):
            record = {
                "id": q.get("id"),
                "question": q["text"],
                "gold": q["answers"],
                "hit": hit(r["prediction"], q["answers"]),
            }
            lines.write(json.dumps(record | {k: v for k, v in r.items() if k not in ("index", "question")}) + "\n")
    run.write_metrics(metrics)
    for key, value in metrics.items():
        out.print(f"{key}: {value}")
    print_usage(usage.to_dict())
    err.print(f"run directory: {run.path}")
