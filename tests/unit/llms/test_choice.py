import math

import httpx
import pytest
from langchain_core.messages import HumanMessage

from retinue.llms.choice import CONTENT_FREE, OPTIONS_MARK, ChoicePrompt, choose, show_options, shown_order
from retinue.llms.option_scores import OptionScores
from retinue.llms.scripted import ScriptedChatModel
from retinue.llms.usage import UsageRecorder

ACTIONS = ["BUY", "SELL", "HOLD"]


def prompt(text: str = "Reports: bearish. Options: {options}.", **fields: object) -> ChoicePrompt:
    return ChoicePrompt(messages=[HumanMessage(text)], options=list(ACTIONS), **fields)  # type: ignore[arg-type]


def test_picks_the_option_the_model_scores_highest_with_its_probability() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[{"logprobs": {"BUY": -3.0, "SELL": -0.2, "HOLD": -2.0}}], callbacks=[usage])
    choice = choose(model, prompt(), default="HOLD", role="manager", usage=usage)
    assert choice.valid and choice.value == "SELL" and choice.method == "scripted"
    expected = math.exp(-0.2) / sum(math.exp(x) for x in (-3.0, -0.2, -2.0))
    assert choice.confidence == pytest.approx(expected)
    assert sum(choice.probabilities.values()) == pytest.approx(1.0)
    assert usage.by_role["manager"].calls == 1
    model.assert_all_used()


def test_the_options_are_shown_where_the_prompt_says_in_the_order_scored() -> None:
    model = ScriptedChatModel(responses=[{"position": 1}])
    choice = choose(model, prompt(), default="HOLD")
    sent = str(model.calls[0].messages[-1].content)
    assert OPTIONS_MARK not in sent and f"Options: {', '.join(choice.shown)}." in sent
    assert model.calls[0].kwargs["choice"]["options"] == list(choice.shown)
    assert choice.value == choice.shown[0] and choice.position == 1


def test_the_order_shown_varies_between_calls_and_repeats_for_the_same_call() -> None:
    orders = {tuple(shown_order(ACTIONS, [HumanMessage(f"day {day}")], "manager", 0)) for day in range(30)}
    assert len(orders) == 6  # every permutation of three options turns up
    again = shown_order(ACTIONS, [HumanMessage("day 1")], "manager", 0)
    assert again == shown_order(ACTIONS, [HumanMessage("day 1")], "manager", 0)
    assert again != shown_order(ACTIONS, [HumanMessage("day 1")], "manager", 1) or again != shown_order(
        ACTIONS, [HumanMessage("day 1")], "manager", 2
    )


def test_without_a_mark_the_options_are_listed_at_the_end() -> None:
    shown = show_options([HumanMessage("Pick one.")], ["a", "b"])
    assert shown[0].content == "Pick one.\nOptions: a, b"


def test_an_explicit_order_is_kept() -> None:
    model = ScriptedChatModel(responses=[{"position": 3}])
    choice = choose(model, prompt(), default="HOLD", order=["HOLD", "SELL", "BUY"])
    assert choice.shown == ("HOLD", "SELL", "BUY") and choice.value == "BUY"
    with pytest.raises(ValueError, match="order"):
        choose(model, prompt(), default="HOLD", order=["HOLD", "SELL"])


def test_labels_are_calibrated_against_the_content_free_prompt() -> None:
    # The model prefers BUY whatever it reads; the content-free prompt shows that preference, and
    # calibration takes it out: SELL, which the case raised most above its content-free level, wins.
    calls: list[str] = []

    class Biased(ScriptedChatModel):
        def _next_text(self, messages, kwargs):  # type: ignore[no-untyped-def]
            calls.append(str(messages[-1].content))
            options = kwargs["choice"]["options"]
            free = CONTENT_FREE in str(messages[-1].content)
            table = {"BUY": -0.1, "SELL": -4.0, "HOLD": -4.0} if free else {"BUY": -0.3, "SELL": -1.5, "HOLD": -5.0}
            return OptionScores([table[o] for o in options], [1] * len(options), "test").to_json()

    model = Biased(responses=[])
    free = [HumanMessage(f"Reports: {CONTENT_FREE}. Options: {{options}}.")]
    plain = choose(model, prompt(), default="HOLD")
    calibrated = choose(model, prompt(content_free=free), default="HOLD")
    assert plain.value == "BUY" and calibrated.value == "SELL"
    choose(
        model,
        prompt("Reports: bullish. Options: {options}.", content_free=free),
        default="HOLD",
        order=calibrated.shown,
    )
    assert sum(CONTENT_FREE in c for c in calls) == 1  # the content-free scores of one order are asked once


def test_text_options_fall_back_to_mean_log_probability_when_the_premise_cannot_be_scored() -> None:
    # "go north" has the higher total (fewer tokens); per token, "take the red apple" reads better.
    class NoPremise(ScriptedChatModel):
        def _next_text(self, messages, kwargs):  # type: ignore[no-untyped-def]
            if kwargs["choice"]["baseline"]:
                return "not scores"
            return super()._next_text(messages, kwargs)

    text = OptionScores([-6.0, -4.0], [4, 2], "test").to_json()
    choice = choose(
        NoPremise(responses=[text]),
        ChoicePrompt([HumanMessage("Commands: {options}")], ["take the red apple", "go north"], kind="text"),
        default="go north",
        order=["take the red apple", "go north"],
        attempts=1,
    )
    assert choice.value == "take the red apple" and choice.valid


def test_text_options_are_scored_by_pmi_against_the_stem() -> None:
    """Holtzman et al.'s domain-conditional PMI: what the case adds to an option's likelihood."""

    class Premised(ScriptedChatModel):
        def _next_text(self, messages, kwargs):  # type: ignore[no-untyped-def]
            self._calls.append(None)  # type: ignore[arg-type]
            options = kwargs["choice"]["options"]
            # "look" is likely anywhere; "open fridge" is likely only given this case.
            premise = str(messages[-1].content) == "Command:"
            table = {"look": -1.0, "open fridge": -6.0} if premise else {"look": -1.5, "open fridge": -3.0}
            return OptionScores([table[o] for o in options], [1, 2], "test").to_json()

    choice = choose(
        Premised(responses=[]),
        ChoicePrompt(
            [HumanMessage("You are hungry. {options}")], ["look", "open fridge"], kind="text", domain="Command:"
        ),
        default="look",
        order=["look", "open fridge"],
    )
    assert choice.value == "open fridge"


def test_a_model_trained_on_the_prompts_is_scored_by_its_conditional_without_calibration() -> None:
    """agent-gemma: the same scores as above, where PMI picks "open fridge", are taken as they are for the
    roles it was trained on; another role's choice is calibrated."""

    class Trained(ScriptedChatModel):
        trained_roles: frozenset[str] = frozenset({"actor", "manager"})

    text = OptionScores([-1.5, -3.0], [1, 2], "test").to_json()
    model = Trained(responses=[text])
    choice = choose(
        model,
        ChoicePrompt([HumanMessage("You are hungry. {options}")], ["look", "open fridge"], kind="text"),
        default="open fridge",
        order=["look", "open fridge"],
        role="actor",
    )
    assert choice.value == "look" and choice.valid
    assert len(model.calls) == 1  # no premise asked
    labels = Trained(responses=[{"logprobs": {"BUY": -3.0, "SELL": -0.2, "HOLD": -2.0}}])
    content_free = [HumanMessage(CONTENT_FREE)]
    picked = choose(labels, prompt(content_free=content_free), default="HOLD", order=ACTIONS, role="manager")
    assert picked.value == "SELL" and len(labels.calls) == 1  # no content-free call
    untrained = Trained(responses=[{"logprobs": {"BUY": -3.0, "SELL": -0.2, "HOLD": -2.0}}, {"logprobs": [0, 0, 0]}])
    choose(untrained, prompt(content_free=content_free), default="HOLD", order=ACTIONS, role="reflector")
    assert len(untrained.calls) == 2  # calibrated: the content-free prompt asked too


def test_bad_replies_and_failed_calls_are_retried_then_fall_back() -> None:
    usage = UsageRecorder()
    model = ScriptedChatModel(
        responses=["not scores", httpx.ConnectError("refused"), {"logprobs": [0.5, -1, -1]}], callbacks=[usage]
    )
    choice = choose(model, prompt(), default="HOLD", role="manager", attempts=3, backoff_seconds=0, usage=usage)
    assert not choice.valid and choice.value == "HOLD" and choice.confidence == 0.0
    assert choice.method == "fallback" and "log-probabilities" in (choice.fallback_reason or "")
    assert usage.by_role["manager"].fallbacks == 1
    model.assert_all_used()


def test_one_option_needs_no_call_and_bad_arguments_are_refused() -> None:
    model = ScriptedChatModel(responses=[])
    only = choose(model, ChoicePrompt([HumanMessage("x")], ["look"]), default="look")
    assert only.value == "look" and only.confidence == 1.0 and not model.calls
    with pytest.raises(ValueError, match="default"):
        choose(model, prompt(), default="WAIT")
    with pytest.raises(ValueError, match="option"):
        choose(model, ChoicePrompt([HumanMessage("x")], []), default="x")


def test_a_choice_replays_from_the_response_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retinue.llms.cache import SQLiteResponseCache

    cache = SQLiteResponseCache(tmp_path / "cache.sqlite")
    usage = UsageRecorder()
    first = choose(
        ScriptedChatModel(responses=["SELL"], cache=cache, callbacks=[usage]), prompt(), default="HOLD", usage=usage
    )
    replayed = choose(
        ScriptedChatModel(responses=[], cache=cache, callbacks=[usage]), prompt(), default="HOLD", usage=usage
    )
    assert first.value == replayed.value == "SELL" and replayed.probabilities == first.probabilities
    assert usage.total().calls == 1 and usage.total().cache_hits == 1
