"""Validated configuration: pydantic models with a default and a one-line doc per field, read from TOML."""

import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retinue.errors import ConfigError

Provider = Literal["embedded", "openai", "scripted"]


class LLMConfig(BaseModel):
    """How to reach the chat model. Secrets come from environment variables, never from files."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider = Field("embedded", description="Which chat model seam to use.")
    model: str | None = Field(
        None,
        description="embedded: a GGUF path or the name of a registered Gemma trained here or shipped (a new run "
        "with none named gets agent-gemma; gemma3-270m is the base model from PyPI); openai: the model name "
        "(default $OPENAI_MODEL, else gpt-4o-mini).",
    )
    base_url: str | None = Field(
        None, description="openai: the endpoint base URL (default $OPENAI_BASE_URL, else OpenAI's)."
    )
    api_key_env: str = Field("OPENAI_API_KEY", description="openai: the environment variable holding the key.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 is greedy.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens generated per call.")
    seed: int = Field(0, description="Sampling seed, so that runs are repeatable.")
    context_tokens: int = Field(4096, ge=256, description="embedded: the context window in tokens.")
    threads: int | None = Field(None, ge=1, description="embedded: CPU threads (default: all cores).")
    timeout_seconds: float = Field(60.0, gt=0, description="openai: per-request timeout.")
    max_retries: int = Field(2, ge=0, le=10, description="openai: client retries on 429/5xx, with backoff.")
    decision_attempts: int = Field(
        3, ge=1, le=10, description="Tries per decision before falling back to the safe default."
    )
    backoff_seconds: float = Field(
        0.5, ge=0.0, description="First wait after a failed call; doubles on each further try."
    )
    script: Path | None = Field(None, description="scripted: a JSON file of canned responses.")
    cache: bool = Field(True, description="Replay identical calls from the response cache.")


class Settings(BaseModel):
    """A retinue configuration file: one table per concern."""

    model_config = ConfigDict(extra="forbid")

    llm: LLMConfig = Field(default_factory=LLMConfig, description="The chat model.")


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_config(model: type[ModelT], data: dict[str, Any], source: str = "config") -> ModelT:
    """Validate `data`, turning pydantic's errors into one message that names each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, source)) from None


def describe_validation_error(error: ValidationError, source: str) -> str:
    """Each problem on a line of its own; one problem fits on the first line."""
    problems = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        got = f" (got {problem['input']!r})" if problem["type"] != "missing" else ""
        problems.append(f"{field}: {problem['msg']}{got}")
    if len(problems) == 1:
        return f"invalid {source}: {problems[0]}"
    return "\n".join([f"invalid {source}:", *(f"  {p}" for p in problems)])


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, with an error that says where it is broken."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def load_settings(path: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from a TOML file (or defaults), with command-line overrides for the [llm] table."""
    data = load_toml(path) if path else {}
    if overrides:
        data.setdefault("llm", {}).update({k: v for k, v in overrides.items() if v is not None})
    return validate_config(Settings, data, source=str(path) if path else "settings")
