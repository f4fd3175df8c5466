"""The wire format of a choice between a chat model and `retinue.llms.choose`: a `ScoreRequest` in the
call's keywords, `OptionScores` as JSON in the reply's content. A light module, so that providers (the
scripted double among them) can answer choices without importing the seam's machinery."""

import json
import math
from dataclasses import dataclass
from typing import Any

# The keyword a chat model's invoke receives for a choice; its reply's content is `OptionScores` as JSON.
CHOICE_KEYWORD = "choice"


@dataclass(frozen=True)
class ScoreRequest:
    """What a provider scores: `options` (in the order shown) as continuations of the prompt and `stem`.
    `baseline` marks a prompt that does not depend on the case (content-free input, domain premise)."""

    options: list[str]
    stem: str
    baseline: bool = False

    def to_kwargs(self) -> dict[str, Any]:
        return {CHOICE_KEYWORD: {"options": list(self.options), "stem": self.stem, "baseline": self.baseline}}

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> "ScoreRequest | None":
        request = kwargs.get(CHOICE_KEYWORD)
        if request is None:
            return None
        return cls(options=list(request["options"]), stem=str(request["stem"]), baseline=bool(request.get("baseline")))


@dataclass(frozen=True)
class OptionScores:
    """A provider's answer: per option (in the order asked), the summed log-probability of its tokens
    and how many tokens it has; `method` says how they were obtained."""

    logprobs: list[float]
    tokens: list[int]
    method: str

    def to_json(self) -> str:
        return json.dumps({"logprobs": self.logprobs, "tokens": self.tokens, "method": self.method})

    @classmethod
    def parse(cls, text: str, options: int) -> "OptionScores":
        """The scores in a reply, or ValueError saying what is wrong with it."""
        try:
            data = json.loads(text)
            logprobs = [float(x) for x in data["logprobs"]]
            tokens = [int(x) for x in data.get("tokens") or [1] * len(logprobs)]
            method = str(data.get("method", "scores"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not option scores ({type(error).__name__}: {error})") from None
        if len(logprobs) != options or len(tokens) != options:
            raise ValueError(f"{len(logprobs)} scores for {options} options")
        if any(math.isnan(x) or x > 1e-6 for x in logprobs) or any(t < 1 for t in tokens):
            raise ValueError("scores must be log-probabilities (<= 0) with at least one token an option")
        return cls(logprobs=logprobs, tokens=tokens, method=method)
