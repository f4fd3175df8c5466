"""`retinue train agent-data`: training examples for the agents' roles, from train splits only."""

from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from retinue.cli.common import RunDirOption, complete_run, err
from retinue.errors import RetinueError

if TYPE_CHECKING:
    from retinue.agent_data import Example
    from retinue.envs.kgqa import KGQuestion
    from retinue.envs.knowledge_graph import KnowledgeGraph
    from retinue.runs.context import RunContext

ROLES = ("actor", "introspector", "planner", "reflector", "tog_relations", "tog_entities", "news_analyst", "manager")


def agent_data(
    roles: Annotated[
        str,
        typer.Option(
            help="Roles, comma-separated: actor and introspector (Tips), planner, reflector, tog_relations and "
            "tog_entities (EffiQA and its ToG baseline), news_analyst and manager (FinCon)."
        ),
    ] = "actor",
    games: Annotated[
        Path | None, typer.Option(help="actor and introspector: games made by `retinue games make --split train`.")
    ] = None,
    deviations: Annotated[
        int, typer.Option(help="actor and introspector: rollouts off the expert's path per game (failed attempts).")
    ] = 2,
    recovery_steps: Annotated[int, typer.Option(help="actor: labelled states after each deviation, at most.")] = 8,
    tips_passes: Annotated[
        int,
        typer.Option(
            help="actor: passes along the expert's path per game with the tips of a failed attempt in the guidance "
            "(at most --deviations)."
        ),
    ] = 0,
    questions: Annotated[
        int | None, typer.Option(help="planner and ToG: questions a hop count from the train part of MetaQA dev.")
    ] = 1000,
    reflections: Annotated[
        int, typer.Option(help="reflector: questions a hop count (a right and a wrong path each), from the same part.")
    ] = 100,
    reason_model: Annotated[
        str,
        typer.Option(
            help="reflector and manager: the embedded model that writes the reasons before each pick (and, for the "
            "manager, the news analyst's readings), as at run time."
        ),
    ] = "agent-gemma",
    decisions: Annotated[
        int, typer.Option(help="manager: training-window days a decision (BUY, SELL, HOLD), at most.")
    ] = 200,
    split_seed: Annotated[int, typer.Option(help="planner: seed of the dev split (as the explorer's).")] = 0,
    sentences: Annotated[
        int, typer.Option(help="news_analyst: examples a label from the train part of Financial PhraseBank.")
    ] = 150,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data root holding metaqa/ and sentiment/ (default: see README).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the deviations and of the options' shown order.")] = 0,
    out_dir: RunDirOption = None,
) -> None:
    """Label states of the project's own environments with the right choice, in exactly the prompts the
    agents see (the same templates, the options in the order the choice seam shows them):
    RUN_DIR/<role>.jsonl (role, messages, stem, options, target, provenance) and metrics.json (examples by
    kind, level or hop count)."""
    import time

    from retinue.paths import runs_root
    from retinue.runs.directory import RunDirectory

    chosen = list(dict.fromkeys(r.strip() for r in roles.split(",") if r.strip()))
    if unknown := [r for r in chosen if r not in ROLES]:
        raise RetinueError(f"--roles: {', '.join(unknown)} not labelled yet; so far: {', '.join(ROLES)}")
    if {"actor", "introspector"} & set(chosen) and games is None:
        raise RetinueError(
            "--games is required for the actor and the introspector: a folder made by "
            "`retinue games make --split train`"
        )
    if not 0 <= tips_passes <= deviations:
        raise RetinueError(f"--tips-passes must be between 0 and --deviations ({deviations}), not {tips_passes}")
    if (
        deviations < 0
        or min(recovery_steps, sentences, reflections, decisions) < 1
        or (questions is not None and questions < 1)
    ):
        raise RetinueError(
            "--deviations must be at least 0; --recovery-steps, --questions, --reflections, --sentences and "
            "--decisions at least 1"
        )
    config = {
        "roles": chosen,
        "games": str(games) if games else None,
        "deviations": deviations,
        "recovery_steps": recovery_steps,
        "tips_passes": tips_passes,
        "questions": questions,
        "split_seed": split_seed,
        "sentences": sentences,
        "reflections": reflections if "reflector" in chosen else None,
        "reason_model": reason_model if {"reflector", "manager"} & set(chosen) else None,
        "decisions": decisions if "manager" in chosen else None,
        "seed": seed,
    }
    run = RunDirectory.create("train agent-data", config, out_dir, runs_root())
    started = time.perf_counter()
    metrics: dict[str, int] = {}
    if "actor" in chosen and games is not None:
        folder = games
        metrics |= _write(
            "actor", run.path, lambda progress: _actor(folder, deviations, recovery_steps, tips_passes, seed, progress)
        )
    if "introspector" in chosen and games is not None:
        played = games
        metrics |= _write(
            "introspector", run.path, lambda progress: _introspector(played, deviations, recovery_steps, seed, progress)
        )
    if "planner" in chosen:
        metrics |= _write(
            "planner", run.path, lambda progress: _planner(data_dir, questions, split_seed, seed, progress)
        )
    tog: list[Example] = []  # both ToG roles come from one walk along the gold paths, made once

    def tog_examples_of(role: str, progress: Progress) -> "Iterator[Example]":
        if not tog:
            tog.extend(_tog(data_dir, questions, split_seed, seed, progress))
        return (example for example in tog if example.role == role)

    for tog_role in ("tog_relations", "tog_entities"):
        if tog_role in chosen:
            metrics |= _write(tog_role, run.path, partial(tog_examples_of, tog_role))
    if "reflector" in chosen:
        metrics |= _write(
            "reflector",
            run.path,
            lambda progress: _reflector(data_dir, reflections, split_seed, seed, reason_model, progress),
        )
    if "news_analyst" in chosen:
        metrics |= _write("news_analyst", run.path, lambda _: _news_analyst(data_dir, sentences, seed))
    if "manager" in chosen:
        metrics |= _write(
            "manager", run.path, lambda progress: _manager(data_dir, decisions, seed, reason_model, progress)
        )
    complete_run(run, metrics, round(time.perf_counter() - started, 3))
    err.print(f"examples: {', '.join(str(run.path / f'{role}.jsonl') for role in chosen)}")


Progress = Callable[[int, int], None]


def _actor(
    games: Path, deviations: int, recovery_steps: int, tips_passes: int, seed: int, progress: Progress
) -> "Iterator[Example]":
    from retinue.agent_data import actor_examples

    return actor_examples(
        games, deviations=deviations, recovery_steps=recovery_steps, tips_passes=tips_passes, seed=seed,
        progress=progress,
    )  # fmt: skip


def _introspector(
    games: Path, deviations: int, recovery_steps: int, seed: int, progress: Progress
) -> "Iterator[Example]":
    from retinue.agent_data import introspector_examples

    return introspector_examples(
        games, deviations=deviations, recovery_steps=recovery_steps, seed=seed, progress=progress
    )


def _metaqa(data_dir: Path | None, per_hop: int | None, split_seed: int) -> tuple["KnowledgeGraph", list["KGQuestion"]]:
    """MetaQA's graph (loaded once per command) and `per_hop` questions a hop count of the train part of
    dev's seeded split, the split the explorer's validation part is of."""
    from retinue.agent_data import train_questions
    from retinue.envs.kgqa import HOPS
    from retinue.paths import data_root

    return _metaqa_graph(data_dir), train_questions(data_root(data_dir), HOPS, split_seed, per_hop)


@cache
def _metaqa_graph(data_dir: Path | None) -> "KnowledgeGraph":
    from retinue.envs.knowledge_graph import KnowledgeGraph
    from retinue.paths import data_root

    return KnowledgeGraph.load(data_root(data_dir) / "metaqa" / "kb.txt")


def _planner(
    data_dir: Path | None, questions: int | None, split_seed: int, seed: int, progress: Progress
) -> "Iterator[Example]":
    from retinue.agent_data import planner_examples

    kg, asked = _metaqa(data_dir, questions, split_seed)
    return planner_examples(kg, asked, split_seed=split_seed, seed=seed, progress=progress)


def _tog(
    data_dir: Path | None, questions: int | None, split_seed: int, seed: int, progress: Progress
) -> "Iterator[Example]":
    from retinue.agent_data import tog_examples

    kg, asked = _metaqa(data_dir, questions, split_seed)
    return tog_examples(kg, asked, split_seed=split_seed, seed=seed, progress=progress)


def _reflector(
    data_dir: Path | None, questions: int, split_seed: int, seed: int, model: str, progress: Progress
) -> "Iterator[Example]":
    from retinue.agent_data import reflector_examples
    from retinue.agents.effiqa.planner import write_reason

    kg, asked = _metaqa(data_dir, questions, split_seed)
    ctx = _embedded_context(model)
    return reflector_examples(
        kg, asked, lambda case: write_reason(ctx, case), split_seed=split_seed, seed=seed, progress=progress
    )


def _embedded_context(model: str) -> "RunContext":
    """A run context over the embedded model `model` (built first if it is a shipped adapter)."""
    from retinue.config import LLMConfig
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.runs.context import RunContext
    from retinue.training.lm.shipped import ensure_chat_model

    config = LLMConfig(provider="embedded", model=model)
    ensure_chat_model(config, err)
    usage = UsageRecorder()
    return RunContext(llm=run_chat_model(config, usage), usage=usage, llm_config=config)


def _manager(data_dir: Path | None, decisions: int, seed: int, model: str, progress: Progress) -> "Iterator[Example]":
    from retinue.agent_data import manager_days, manager_examples
    from retinue.agents.fincon.analysts import read_source
    from retinue.agents.fincon.manager import write_reasons
    from retinue.paths import data_root

    ctx = _embedded_context(model)

    def read_news(ticker: str, day: str, memories: str) -> tuple[str, str]:
        reading = read_source(ctx, "news", ticker, day, memories, "none yet")
        return reading.key_point, reading.signal

    # Two passes under one bar, each announced: the bar starts again for the second.
    err.print("manager, pass 1 of 2: the training window's days, their news read as the news analyst does")
    days = list(manager_days(data_root(data_dir), read_news, seed=seed, progress=progress))

    def with_reasons() -> "Iterator[Example]":
        err.print("manager, pass 2 of 2: the reasons written before each chosen decision")
        yield from manager_examples(
            days, lambda case: write_reasons(ctx, case), per_label=decisions, seed=seed, progress=progress
        )

    return with_reasons()


def _news_analyst(data_dir: Path | None, sentences: int, seed: int) -> "Iterator[Example]":
    from retinue.agent_data import analyst_examples
    from retinue.paths import data_root

    return analyst_examples(data_root(data_dir), sentences, seed=seed)


def _write(role: str, folder: Path, examples: "Callable[[Progress], Iterator[Example]]") -> dict[str, int]:
    """Write one role's examples to FOLDER/<role>.jsonl with a progress bar; their counts by kind."""
    from retinue.agent_data import write_examples
    from retinue.progress import progress_bars

    counts: Counter[str] = Counter()

    def tallied(made: "Iterator[Example]") -> "Iterator[Example]":
        for example in made:
            provenance = example.provenance
            counts[str(provenance.get("kind") or f"{provenance.get('hops')}hop")] += 1
            if "level" in provenance:
                counts[f"level_{provenance['level']}"] += 1
            yield example

    with progress_bars(console=err) as bar:
        task = bar.add_task(role, total=None)
        made = examples(lambda done, total: bar.update(task, completed=done, total=total))
        written = write_examples(folder / f"{role}.jsonl", tallied(made))
    return {f"{role}_examples": written} | {f"{role}_{key}_examples": n for key, n in sorted(counts.items())}
