"""`retinue ask`: answers, free or fitting a JSON schema, as a durable run."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    DbOption,
    ModelOptions,
    ResumeOption,
    RunDirOption,
    err,
    out,
    print_usage,
    with_model_options,
)
from retinue.config import LLMConfig, validate_config
from retinue.errors import RetinueError


def _read_schema(path: Path) -> dict[str, Any]:
    from retinue.jsonfiles import read_json
    from retinue.llms.structured import OutputSchema

    schema = read_json(path, "--schema")

    try:
        OutputSchema(schema)
    except Exception as error:  # jsonschema.SchemaError, with the failing keyword in its message
        raise RetinueError(f"--schema: {path} is not a valid JSON schema: {getattr(error, 'message', error)}") from None
    return schema  # type: ignore[no-any-return]


def _read_prompts(prompt: str | None, prompts_file: Path | None) -> list[str]:
    prompts = [prompt] if prompt else []
    if prompts_file is not None:
        try:
            prompts += [line.strip() for line in prompts_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            raise RetinueError(f"--file: file not found: {prompts_file}") from None
    if not prompts:
        raise RetinueError("give a PROMPT, or --file with one prompt per line")
    return prompts


@with_model_options
def ask(
    prompt: Annotated[str | None, typer.Argument(help="What to ask.")] = None,
    prompts_file: Annotated[Path | None, typer.Option("--file", help="More prompts, one per line.")] = None,
    schema: Annotated[Path | None, typer.Option(help="A JSON schema the answer must fit.")] = None,
    db: DbOption = None,
    out_dir: RunDirOption = None,
    resume: ResumeOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Ask the model; with --schema the answer is a validated JSON object. Prints usage after."""
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.resume(resume, "ask")
        saved = run.config()
        prompts, schema_data = saved["prompts"], saved.get("schema")
        llm_config = validate_config(LLMConfig, saved["llm"], source=f"{run.config_path} [llm]")
    else:
        prompts = _read_prompts(prompt, prompts_file)
        schema_data = _read_schema(schema) if schema else None
        llm_config = models.settings()
        from retinue.paths import runs_root
        from retinue.postgres import check_db_url

        run = RunDirectory.create(
            "ask",
            {
                "prompts": prompts,
                "schema": schema_data,
                "llm": llm_config.model_dump(mode="json"),
                "db": check_db_url(db),
            },
            out_dir,
            runs_root(),
        )
    _run_ask(run, prompts, schema_data, llm_config, resume=resume is not None)


def _run_ask(run: Any, prompts: list[str], schema: dict[str, Any] | None, llm_config: LLMConfig, resume: bool) -> None:
    from retinue.agents.ask import AskContext
    from retinue.graphs.ask import build_ask_graph
    from retinue.llms import UsageRecorder, run_chat_model
    from retinue.runs.execute import execute

    usage = UsageRecorder()
    chat_model = run_chat_model(llm_config, usage, run.database)
    context = AskContext(llm=chat_model, usage=usage, llm_config=llm_config, schema=schema)
    streamed: list[str] = []

    def echo(token: str, metadata: dict[str, Any]) -> None:
        streamed.append(token)
        out.print(token, end="", markup=False, highlight=False)

    stream_text = schema is None and len(prompts) == 1
    try:
        final = execute(
            build_ask_graph(),
            run=run,
            context=context,
            usage=usage,
            inputs={"prompts": prompts, "answers": []},
            resume=resume,
            recursion_limit=len(prompts) * 2 + 10,
            on_token=echo if stream_text else None,
            console=err,
        )
    except KeyboardInterrupt:
        err.print(f"\ninterrupted; continue with: retinue ask --resume {run.path}")
        raise typer.Exit(130) from None
    answers = final["answers"]
    for answer in answers:
        if len(prompts) > 1:
            out.print(f"# {answer['prompt']}", markup=False, highlight=False)
        if schema is not None:
            out.print(json.dumps(answer["value"], indent=2, ensure_ascii=False), markup=False, highlight=False)
            if not answer["valid"]:
                err.print(f"[yellow]no valid answer; fell back to null: {answer['fallback_reason']}[/yellow]")
        elif not (stream_text and streamed):
            out.print(answer["text"], markup=False, highlight=False)
        elif stream_text:
            out.print()
    run.write_metrics(_ask_metrics(answers, usage.to_dict()["total"], run.record()))
    print_usage(usage.to_dict())
    err.print(f"run directory: {run.path}")


def _ask_metrics(answers: list[dict[str, Any]], total: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompts": len(answers),
        "valid_answers": sum(1 for a in answers if a["valid"]),
        "fallbacks": sum(1 for a in answers if not a["valid"]),
        "llm_calls": total["calls"],
        "cache_hits": total["cache_hits"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "llm_latency_seconds": round(total["latency_seconds"], 3),
        "duration_seconds": record.get("duration_seconds"),
    }
