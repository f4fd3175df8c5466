"""One training example: a pick from a closed set as the choice seam poses it, or a structured reply."""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from retinue.llms.choice import ChoicePrompt, shown_order


@dataclass(frozen=True)
class Example:
    """A prompt as the role's model receives it (options in the order `choose` shows them), the option
    the environment labels right, and where the example comes from."""

    role: str
    messages: list[dict[str, str]]
    stem: str
    options: list[str]
    target: str
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_choice(
        cls, role: str, prompt: ChoicePrompt, target: str, provenance: dict[str, Any], seed: int = 0
    ) -> "Example":
        """The example of `prompt` with its options in the order `choose(..., role=role, seed=seed)` shows
        them, so that training sees what run time sees."""
        if target not in prompt.options:
            raise ValueError(f"the target {target!r} is not one of the options")
        order = shown_order(prompt.options, prompt.messages, role, seed)
        messages = prompt.shown(prompt.messages, order)
        return cls(role, [_as_dict(m) for m in messages], prompt.stem, order, target, provenance)

    @classmethod
    def of_reply(cls, role: str, messages: list[BaseMessage], reply: str, provenance: dict[str, Any]) -> "Example":
        """The example of a structured reply (a role that `decide`s): `messages` as `decide` sends them
        (`decision_messages`), `reply` its one option and target, with no stem: it follows the prompt."""
        return cls(role, [_as_dict(m) for m in messages], "", [reply], reply, provenance)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def _as_dict(message: BaseMessage) -> dict[str, str]:
    return {"role": message.type, "content": str(message.content)}


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    """Write `examples` as JSON lines; how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as lines:
        for example in examples:
            lines.write(example.to_json() + "\n")
            count += 1
    return count
