"""`retinue probe`: does a role's decision depend on its evidence, or on where its options are listed?"""

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    ModelOptions,
    RunDirOption,
    complete_run,
    err,
    out,
    with_model_options,
)
from retinue.errors import RetinueError


def model_name(llm_config: Any) -> str:
    """What a results table names as the model: the provider and the model (file or name)."""
    from retinue.llms.providers import DEFAULT_OPENAI_MODEL, embedded_model_path
    from retinue.models import registry

    if llm_config.provider == "embedded":
        if llm_config.model in registry.names():  # a model trained here or shipped, by its name
            return f"embedded {llm_config.model}"
        return f"embedded {Path(embedded_model_path(llm_config.model)).name}"
    if llm_config.provider == "openai":
        return f"openai {llm_config.model or DEFAULT_OPENAI_MODEL}"
    return "scripted"


@with_model_options
def probe(
    role: Annotated[str, typer.Option(help="manager | analyst | planner | reflector | actor.")],
    pairs: Annotated[int, typer.Option(help="Case pairs: each case and its twin with the evidence flipped.")] = 25,
    orders: Annotated[int, typer.Option(help="Orders of the options each case is asked in.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the cases drawn and of the orders.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root (default: see README).")] = None,
    out_dir: RunDirOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Ask a role counterfactual cases with a known right answer, each in several orders of its options, as
    its agent asks them, and write metrics.json: accuracy with a 95 % interval against chance, the
    position-bias rate (how often the pick stays at one position when the order changes) and the flip rate
    (how often it changes when the evidence is flipped). answers.jsonl has every answer."""
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.paths import data_root, retinue_home, runs_root
    from retinue.probes import ROLES, ask_pairs, probe_metrics, probe_pairs, summary_line
    from retinue.progress import progress_bars
    from retinue.runs.context import RunContext
    from retinue.runs.directory import RunDirectory

    if role not in ROLES:
        raise RetinueError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    if pairs < 1 or orders < 1:
        raise RetinueError("--pairs and --orders must be at least 1")
    llm_config = models.settings()
    err.print(f"making {pairs} {role} case pairs...")
    cases = probe_pairs(role, data_root(data_dir), retinue_home(), pairs, seed)
    settings = {"role": role, "pairs": pairs, "orders": orders, "seed": seed, "llm": llm_config.model_dump(mode="json")}
    run = RunDirectory.create("probe", settings, out_dir, runs_root())
    err.print(f"run directory: {run.path}")
    usage = UsageRecorder()
    context = RunContext(llm=run_chat_model(llm_config, usage), usage=usage, llm_config=llm_config)
    started = time.perf_counter()
    answers = []
    with progress_bars(console=err) as bar, (run.path / "answers.jsonl").open("w", encoding="utf-8") as written:
        task = bar.add_task(
            "answers", total=sum(min(orders, len(c.options)) for p in cases for c in (p.case, p.flipped))
        )
        for answer in ask_pairs(context, cases, orders, seed):
            answers.append(answer)
            written.write(json.dumps(answer.to_dict()) + "\n")
            bar.advance(task)
    seconds = round(time.perf_counter() - started, 1)
    metrics = {"role": role, "model": model_name(llm_config), **probe_metrics(cases, answers), "seconds": seconds}
    usage.save(run.usage_path)
    complete_run(run, metrics, seconds)
    out.print(summary_line(role, metrics))
