"""Prompts asked of the model, each answer a checkpoint: free text, or a JSON object that fits a schema."""

from typing import Any

from pydantic import ConfigDict, Field
from rich.console import Console

from retinue.runs.directory import RunDirectory
from retinue.runs.driver import ScenarioRun
from retinue.scenarios.base import ScenarioConfig


class AskScenario(ScenarioConfig):
    """One or more prompts; with a schema, each answer is validated (or falls back to null)."""

    # "schema" is BaseModel's own name; the field is schema_, written and read as "schema".
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    command = "ask"

    prompts: list[str] = Field(min_length=1, description="What to ask, in order.")
    schema_: dict[str, Any] | None = Field(None, alias="schema", description="A JSON schema every answer must fit.")


def prepare(config: AskScenario) -> AskScenario:
    return config


def build(config: AskScenario, run: RunDirectory, console: Console | None = None) -> ScenarioRun:
    """The ask graph over the prompts with the run's chat model."""
    from retinue.agents.ask import AskContext
    from retinue.graphs.ask import build_ask_graph
    from retinue.llms import UsageRecorder, run_chat_model

    usage = UsageRecorder()
    chat_model = run_chat_model(config.llm, usage, config.db)
    context = AskContext(llm=chat_model, usage=usage, llm_config=config.llm, schema=config.schema_)
    return ScenarioRun(
        graph=build_ask_graph(),
        context=context,
        usage=usage,
        inputs={"prompts": config.prompts, "answers": []},
        recursion_limit=len(config.prompts) * 2 + 10,
        report=lambda final: _metrics(final["answers"], usage.to_dict()["total"], run.record()),
    )


def _metrics(answers: list[dict[str, Any]], total: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
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
