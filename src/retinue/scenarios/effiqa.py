"""EffiQA and its baselines answering knowledge-graph questions: the config and the one place that
assembles the graph, the plug-in explorer and the model for a run."""

import json
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from rich.console import Console

from retinue.errors import RetinueError
from retinue.runs.directory import RunDirectory
from retinue.runs.driver import ScenarioRun
from retinue.scenarios.base import ScenarioConfig

EXPLORER_NAME = "kg-explorer"
Method = Literal["effiqa", "tog", "io", "plugin"]


class EffiQAScenario(ScenarioConfig):
    """Questions over a knowledge graph, answered by EffiQA or a baseline and scored (Hits@1)."""

    command = "eval effiqa"

    method: Method = Field("effiqa", description="effiqa, or a baseline: tog, io (the LLM alone), plugin (no LLM).")
    hops: int | None = Field(1, ge=1, le=3, description="MetaQA questions of 1, 2 or 3 hops (None: questions given).")
    variant: Literal["vanilla", "ntm"] | None = Field(
        "vanilla", description="MetaQA's questions as written, or paraphrased (ntm, 1-hop only)."
    )
    questions_file: Path | None = Field(None, description="Questions in MetaQA's format instead of MetaQA dev.")
    limit: int | None = Field(100, ge=1, description="A seeded sample of this many questions (None: all).")
    seed: int = Field(0, description="Seed of the dev split (as the explorer was trained) and of the sample.")
    data_dir: Path | None = Field(None, description="Data root holding metaqa/ (default: see paths.data_root).")
    kg: Path | None = Field(None, description="Knowledge graph: kb.txt or RDF (default: MetaQA's).")
    explorer: Path | None = Field(
        None, description=f"Plug-in model folder (default: the registered {EXPLORER_NAME!r})."
    )
    questions: list[dict[str, Any]] | None = Field(
        None,
        description="The questions asked, each {text, answers, answerable, id, gold_path}; None: prepare() draws.",
    )

    @property
    def uses_model(self) -> bool:
        return self.method != "plugin"


def prepare(config: EffiQAScenario) -> EffiQAScenario:
    """The config with its graph, explorer and questions fixed, checked before a run directory exists."""
    if config.variant == "ntm" and config.hops != 1:
        raise RetinueError(f"--variant: {config.variant!r} is not vanilla, or ntm with --hops 1")
    from retinue.paths import data_root

    given = config.questions is not None or config.questions_file is not None
    root = None if given and config.kg is not None else data_root(config.data_dir)
    questions = config.questions
    if questions is None:
        questions = _pick_questions(root, config.hops or 1, config.variant or "vanilla", config.questions_file, config)
    elif not questions or not all(str(q.get("text", "")).strip() for q in questions):
        raise RetinueError("the question is empty")
    uses_explorer = config.method in ("effiqa", "plugin")
    ready = config.model_copy(
        update={
            "kg": config.kg or root / "metaqa" / "kb.txt",  # type: ignore[operator]
            "explorer": explorer_folder(config.explorer) if uses_explorer else None,
            "questions": questions,
            "hops": None if config.questions_file or config.questions is not None else config.hops,
            "variant": None if config.questions_file or config.questions is not None else config.variant,
        }
    )
    _check_split(ready)
    return ready


def seeded_sample(items: list[Any], count: int | None, seed: int) -> list[Any]:
    """`count` items drawn by `seed`, in their original order (all of them when count is None)."""
    if count is None or count >= len(items):
        return items
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), count))]


def _pick_questions(
    root: Path | None, hops: int, variant: str, questions_file: Path | None, config: EffiQAScenario
) -> list[dict[str, Any]]:
    from retinue.envs.kgqa import metaqa_questions, read_questions, split_dev

    if questions_file is not None:
        chosen = seeded_sample(read_questions(questions_file), config.limit, config.seed)
    else:
        # The split is by question index, so the paraphrased (ntm) questions split as the vanilla ones do.
        _, validation = split_dev(metaqa_questions(root, hops, variant), config.seed)  # type: ignore[arg-type]
        chosen = seeded_sample(validation, config.limit, config.seed)
    return [
        {
            "id": q.id,
            "text": q.text,
            "answers": list(q.answers),
            "answerable": q.answerable,
            "gold_path": [s.name for s in q.path] if q.path is not None else None,
        }
        for q in chosen
    ]


def explorer_folder(explorer: Path | None) -> Path:
    """The plug-in model: the folder given, else the registered one."""
    from retinue.models.registry import model_folder

    how = "train one with `retinue train explorer`, or give --explorer MODEL_DIR"
    return model_folder(explorer, EXPLORER_NAME, how)


def _check_split(config: EffiQAScenario) -> None:
    """An explorer trained on another split of MetaQA dev would be tested on its own training questions."""
    from retinue.models.kg_explorer import ExplorerModel

    if config.explorer is None or config.hops is None:
        return
    trained_on = ExplorerModel.load(config.explorer).card.get("split_seed")
    if trained_on is not None and trained_on != config.seed:
        raise RetinueError(
            f"the explorer was trained on the dev split of seed {trained_on}; evaluating with --seed {config.seed} "
            "would test it on questions it trained on. Use the same --seed, or retrain."
        )


def build(config: EffiQAScenario, run: RunDirectory, console: Console | None = None) -> ScenarioRun:
    """The method's graph over the knowledge graph, with the explorer and the run's chat model."""
    from retinue.agents.effiqa import EffiQAContext
    from retinue.envs.knowledge_graph import KnowledgeGraph
    from retinue.graphs.effiqa import BUILDERS
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.models.kg_explorer import ExplorerModel
    from retinue.tools.kg_explorer import PathExplorer

    questions = config.questions or []
    graph = KnowledgeGraph.load(config.kg) if config.method != "io" and config.kg is not None else None
    explorer = None
    if config.explorer is not None and graph is not None:
        explorer = PathExplorer(graph, ExplorerModel.load(config.explorer))
    usage = UsageRecorder()
    chat_model = run_chat_model(config.llm, usage, config.db)
    context = EffiQAContext(llm=chat_model, usage=usage, llm_config=config.llm, kg=graph, explorer=explorer)
    texts = [q["text"] for q in questions]
    return ScenarioRun(
        graph=BUILDERS[config.method](),
        context=context,
        usage=usage,
        inputs={"questions": texts, "current": None, "results": []},
        recursion_limit=len(texts) * 12 + 10,
        report=lambda final: _report(run, questions, final["results"]),
    )


def _report(run: RunDirectory, questions: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Hits@1 and cost per question; every answer with its path in predictions.jsonl."""
    from retinue.evaluation.kgqa import hit, kgqa_metrics, plan_agreement

    if len(results) != len(questions):
        raise RetinueError(f"{run.path} answered {len(results)} of {len(questions)} questions; --resume it")
    answerable = [q["answerable"] is not False for q in questions]
    metrics = kgqa_metrics(results, [q["answers"] for q in questions], answerable)
    metrics |= plan_agreement(results, [q.get("gold_path") for q in questions])
    with (run.path / "predictions.jsonl").open("w", encoding="utf-8") as lines:
        for q, r in zip(questions, results, strict=True):
            record = {
                "id": q.get("id"),
                "question": q["text"],
                "gold": q["answers"],
                "hit": hit(r["prediction"], q["answers"]),
            }
            lines.write(json.dumps(record | {k: v for k, v in r.items() if k not in ("index", "question")}) + "\n")
    return metrics
