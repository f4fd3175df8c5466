"""What every scenario config shares."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from retinue.config import LLMConfig


class ScenarioConfig(BaseModel):
    """A typed, validated description of one run. Saved as the run directory's config.json, so a run can be
    resumed and read back; `command` names the run command it is recorded under."""

    model_config = ConfigDict(extra="forbid")

    command: ClassVar[str]

    llm: LLMConfig = Field(default_factory=LLMConfig, description="The chat model the agents call.")
    db: str | None = Field(
        None, description="PostgreSQL URL for checkpoints and the response cache (default: SQLite files)."
    )

    @property
    def uses_model(self) -> bool:
        """Whether the run calls the chat model (a baseline that does not is never given one to build)."""
        return True

    def saved(self) -> dict[str, Any]:
        """The config as config.json holds it."""
        return self.model_dump(mode="json")
