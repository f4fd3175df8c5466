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
    run_scenario,
    with_model_options,
)
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
    from retinue.postgres import check_db_url
    from retinue.scenarios import AskScenario, load_scenario

    if resume is not None:
        _, scenario = load_scenario(resume)
        if not isinstance(scenario, AskScenario):
            raise RetinueError(f"{resume} is not an 'ask' run")
        ask_run = None
    else:
        scenario = AskScenario(
            prompts=_read_prompts(prompt, prompts_file),
            schema_=_read_schema(schema) if schema else None,
            llm=models.settings(default_model=False),
            db=check_db_url(db),
        )
        ask_run = scenario
    streamed: list[str] = []

    def echo(token: str, metadata: dict[str, Any]) -> None:
        streamed.append(token)
        out.print(token, end="", markup=False, highlight=False)

    stream_text = scenario.schema_ is None and len(scenario.prompts) == 1
    result = run_scenario(ask_run, out_dir=out_dir, resume=resume, on_token=echo if stream_text else None)
    for answer in result.final["answers"]:
        if len(scenario.prompts) > 1:
            out.print(f"# {answer['prompt']}", markup=False, highlight=False)
        if scenario.schema_ is not None:
            out.print(json.dumps(answer["value"], indent=2, ensure_ascii=False), markup=False, highlight=False)
            if not answer["valid"]:
                err.print(f"[yellow]no valid answer; fell back to null: {answer['fallback_reason']}[/yellow]")
        elif not (stream_text and streamed):
            out.print(answer["text"], markup=False, highlight=False)
        elif stream_text:
            out.print()
    print_usage(result.usage)
    err.print(f"run directory: {result.path}")
