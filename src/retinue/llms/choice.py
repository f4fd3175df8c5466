"""Closed choices: `choose()` has the model score every option, and never shows them in a fixed order.

`decide()` asks for a structured reply; a small model forced to start that reply at once copies the
first option it was shown (Gemma 3 270M base answered BUY on all 2,380 FinCon decisions). `choose()` is
for decisions that pick one of a closed set (an action, a signal, accept/revise, a relation, a command):

- the options are shown in an order drawn from the call's own content and seed, so it varies from call
  to call (the probes pass an explicit order to measure position bias);
- the provider scores each option (`ScoreRequest` in, `OptionScores` out, as one chat-model call, so that
  the response cache and usage accounting cover it like any other call): the embedded model by the
  log-likelihood of each option as the continuation of one shared prompt, an OpenAI-compatible endpoint
  by the log-probabilities of the options' numbers where it gives them, else by a structured reply;
- a fixed label set is calibrated against the same prompt with its content replaced by "N/A" (Zhao et
  al. 2021, "Calibrate before use"); free-text options (commands, relations) are scored by
  domain-conditional PMI against a premise, by default the stem alone (Holtzman et al. 2021), which also
  takes out their lengths (the mean token log-probability where the premise cannot be scored);
- the result carries every option's probability, so a confidence is the model's, not a generated number;
- a model trained on a role's very prompts (agent-gemma: its card's "choice_roles") is not calibrated for
  that role: its conditional likelihood is the decision (the mean token log-probability for free text).
  PMI against the stem turned agent-gemma's right first command on 6 of 6 test games into a `take`. Its
  other roles' choices are calibrated as the base model's are.
"""

import hashlib
import json
import logging
import math
import random
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage

from retinue.llms.option_scores import OptionScores, ScoreRequest
from retinue.llms.structured import MISCONFIGURED, TRANSPORT_ERRORS
from retinue.llms.usage import ROLE_KEY, UsageRecorder

log = logging.getLogger(__name__)

# Where a prompt shows the options; without it, they are listed at the end of the last message.
OPTIONS_MARK = "{options}"
CONTENT_FREE = "N/A"  # Zhao et al.'s content-free input

Kind = Literal["label", "text"]


@dataclass(frozen=True)
class ChoicePrompt:
    """A closed choice as a role poses it, the same for its agent and its probe.

    kind: "label" for a fixed label set, calibrated with `content_free` (the same prompt with its
    evidence replaced by `CONTENT_FREE`) when given; "text" for free-text options, by PMI against the
    domain premise `domain` (default: the stem alone). `stem` is the text the options
    continue ("Action:"); `separator` joins them where the prompt shows them (`OPTIONS_MARK`), each with
    its meaning from `meanings` when given ("SELL (hold a short position)"), so that no definition
    lists them in a fixed order either.
    """

    messages: list[BaseMessage]
    options: list[str]
    kind: Kind = "label"
    stem: str = "Answer:"
    content_free: list[BaseMessage] | None = None
    domain: str | None = None
    separator: str = ", "
    meanings: dict[str, str] | None = None

    def shown(self, messages: Sequence[BaseMessage], order: Sequence[str]) -> list[BaseMessage]:
        """`messages` with the options listed in `order`."""
        listed = [f"{o} ({self.meanings[o]})" if self.meanings and o in self.meanings else o for o in order]
        return show_options(messages, listed, self.separator)


@dataclass(frozen=True)
class Choice:
    """What `choose` returns: the chosen option, every option's probability, and how it was made."""

    value: str
    probabilities: dict[str, float]
    shown: tuple[str, ...]  # the order the options were shown in
    valid: bool
    attempts: int
    method: str  # the provider's scoring ("loglik", "logprobs", "structured", "scripted"), or "fallback"
    fallback_reason: str | None = None

    @property
    def confidence(self) -> float:
        """The model's probability of the chosen option (0 for a fallback)."""
        return self.probabilities.get(self.value, 0.0) if self.valid else 0.0

    @property
    def position(self) -> int:
        """Where the chosen option was shown, from 1."""
        return self.shown.index(self.value) + 1


def shown_order(options: Sequence[str], messages: Sequence[BaseMessage], role: str, seed: int) -> list[str]:
    """The options in an order drawn from the call's content and `seed`: the same call shows the same
    order (so the response cache replays it), another call another order."""
    content = "\x00".join(str(m.content) for m in messages)
    digest = hashlib.sha256(f"{seed}\x00{role}\x00{content}\x00{json.dumps(list(options))}".encode()).digest()
    order = list(options)
    random.Random(digest).shuffle(order)
    return order


def show_options(messages: Sequence[BaseMessage], shown: Sequence[str], separator: str = ", ") -> list[BaseMessage]:
    """`messages` with the options in `shown` order where the last message has `OPTIONS_MARK`, else on a
    line of their own at its end."""
    if not messages:
        raise ValueError("a choice needs at least one message")
    *head, last = messages
    listing = separator.join(shown)
    text = str(last.content)
    content = text.replace(OPTIONS_MARK, listing) if OPTIONS_MARK in text else f"{text}\nOptions: {listing}"
    return [*head, last.model_copy(update={"content": content})]


def _log_softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    total = top + math.log(sum(math.exp(v - top) for v in values))
    return [v - total for v in values]


def _softmax(values: Sequence[float]) -> list[float]:
    return [math.exp(v) for v in _log_softmax(values)]


class _BaselineScores:
    """Scores of the prompts that do not depend on the case, per live model: a process asks each once
    (the oldest are dropped past `KEPT` a model, so that a long-lived server does not grow without end)."""

    KEPT = 4096

    def __init__(self) -> None:
        self._by_model: dict[int, dict[str, list[float]]] = {}
        self._lock = threading.Lock()

    def get(self, llm: BaseChatModel, key: str) -> list[float] | None:
        with self._lock:
            return self._by_model.get(id(llm), {}).get(key)

    def put(self, llm: BaseChatModel, key: str, scores: list[float]) -> None:
        with self._lock:
            if id(llm) not in self._by_model:
                weakref.finalize(llm, self._forget, id(llm))  # an id is reused once its model is gone
            kept = self._by_model.setdefault(id(llm), {})
            kept[key] = scores
            if len(kept) > self.KEPT:
                del kept[next(iter(kept))]

    def _forget(self, model_id: int) -> None:
        with self._lock:
            self._by_model.pop(model_id, None)


_BASELINES = _BaselineScores()


def _score(
    llm: BaseChatModel,
    messages: Sequence[BaseMessage],
    request: ScoreRequest,
    role: str,
    attempts: int,
    backoff_seconds: float,
) -> tuple[OptionScores | None, int, str]:
    """The model's scores for `request` (None when every try failed), the tries made and the last problem."""
    reason = "no attempt made"
    for attempt in range(1, attempts + 1):
        try:
            reply = llm.invoke(list(messages), config={"metadata": {ROLE_KEY: role}}, **request.to_kwargs())
        except MISCONFIGURED:
            raise
        except TRANSPORT_ERRORS as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("%s: model call failed (attempt %d/%d): %s", role, attempt, attempts, reason)
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
            continue
        try:
            return OptionScores.parse(str(reply.content), len(request.options)), attempt, ""
        except ValueError as error:
            reason = str(error)
            log.info("%s: %s (attempt %d/%d)", role, reason, attempt, attempts)
    return None, attempts, reason


def choose(
    llm: BaseChatModel,
    prompt: ChoicePrompt,
    *,
    default: str,
    role: str = "default",
    order: Sequence[str] | None = None,
    seed: int = 0,
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    usage: UsageRecorder | None = None,
) -> Choice:
    """Have `llm` pick one of `prompt.options` (see the module doc and `ChoicePrompt`).

    `order` fixes the order the options are shown in (probes); otherwise it is drawn from the call and
    `seed`. Never raises for a bad reply or a failed call, only for a misconfigured endpoint: when the
    tries run out, `default` is returned as a fallback, logged and counted.
    """
    options = list(dict.fromkeys(prompt.options))
    if not options:
        raise ValueError("a choice needs at least one option")
    if default not in options:
        raise ValueError(f"the default {default!r} is not one of the options")
    if len(options) == 1:
        return Choice(options[0], {options[0]: 1.0}, tuple(options), valid=True, attempts=0, method="only option")
    if order is not None and sorted(order) != sorted(options):
        raise ValueError("order must hold each option once")
    shown = list(order) if order is not None else shown_order(options, prompt.messages, role, seed)
    request = ScoreRequest(options=shown, stem=prompt.stem)
    messages = prompt.shown(prompt.messages, shown)
    scores, tries, reason = _score(llm, messages, request, role, attempts, backoff_seconds)
    if scores is None:
        log.warning("%s: falling back to %r after %d attempts (%s)", role, default, tries, reason)
        if usage is not None:
            usage.record_fallback(role)
        return Choice(default, {}, tuple(shown), valid=False, attempts=tries, method="fallback", fallback_reason=reason)
    if role in getattr(llm, "trained_roles", ()):  # trained on this role's prompts: its conditional decides
        values = _conditional(scores, prompt.kind)
    elif prompt.kind == "text":
        premise = prompt.domain or prompt.stem
        values = _pmi(llm, scores, premise, request, role, attempts, backoff_seconds)
    else:
        baseline = prompt.shown(prompt.content_free, shown) if prompt.content_free else None
        values = _calibrated(llm, scores, baseline, request, role, attempts, backoff_seconds)
    probabilities = dict(zip(shown, _softmax(values), strict=True))
    best = max(shown, key=lambda option: probabilities[option])  # ties: the option shown first
    return Choice(best, probabilities, tuple(shown), valid=True, attempts=tries, method=scores.method)


def _conditional(scores: OptionScores, kind: Kind) -> list[float]:
    """Uncalibrated: the mean token log-probability of free-text options, the log-probabilities of labels."""
    if kind == "text":
        return [lp / max(1, n) for lp, n in zip(scores.logprobs, scores.tokens, strict=True)]
    return _log_softmax(scores.logprobs)


def _pmi(
    llm: BaseChatModel,
    scores: OptionScores,
    premise: str,
    request: ScoreRequest,
    role: str,
    attempts: int,
    backoff_seconds: float,
) -> list[float]:
    """Free-text options: log p(option | prompt) - log p(option | domain premise), Holtzman et al.'s
    domain-conditional PMI, which also takes out the options' lengths; the mean token log-probability
    when the premise cannot be scored."""
    ranked = sorted(request.options)  # the premise lists no options: its scores do not depend on the order
    asked = ScoreRequest(options=ranked, stem=request.stem)
    baseline = _baseline_scores(llm, [HumanMessage(premise)], asked, role, attempts, backoff_seconds)
    if baseline is None:
        return [lp / n for lp, n in zip(scores.logprobs, scores.tokens, strict=True)]
    by_option = dict(zip(ranked, baseline, strict=True))
    return [lp - by_option[option] for lp, option in zip(scores.logprobs, request.options, strict=True)]


def _calibrated(
    llm: BaseChatModel,
    scores: OptionScores,
    content_free: list[BaseMessage] | None,
    request: ScoreRequest,
    role: str,
    attempts: int,
    backoff_seconds: float,
) -> list[float]:
    """A label set: log p(option | prompt) - log p(option | content-free prompt), both over the options."""
    conditional = _log_softmax(scores.logprobs)
    if content_free is None:
        return conditional
    baseline = _baseline_scores(llm, content_free, request, role, attempts, backoff_seconds)
    if baseline is None:
        return conditional
    return [lp - base for lp, base in zip(conditional, _log_softmax(baseline), strict=True)]


def _baseline_scores(
    llm: BaseChatModel,
    messages: list[BaseMessage],
    request: ScoreRequest,
    role: str,
    attempts: int,
    backoff_seconds: float,
) -> list[float] | None:
    """Scores of a prompt that does not depend on the case (content-free input, domain premise): asked
    once per model, prompt and order in a process (and replayed by the response cache across runs)."""
    key = json.dumps([[str(m.content) for m in messages], request.options, request.stem])
    cached = _BASELINES.get(llm, key)
    if cached is not None:
        return cached
    baseline = ScoreRequest(options=request.options, stem=request.stem, baseline=True)
    scores, _, reason = _score(llm, messages, baseline, f"{role}_calibration", attempts, backoff_seconds)
    if scores is None:
        log.warning("%s: no calibration scores (%s); the options are not calibrated", role, reason)
        return None
    _BASELINES.put(llm, key, scores.logprobs)
    return scores.logprobs
