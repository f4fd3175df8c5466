"""How the openai provider reads a choice from the log-probabilities of the options' numbers."""

import pytest

from retinue.llms.openai_compatible import numbered_options, scores_from_logprobs


def _logprobs(*top: tuple[str, float]) -> dict[str, object]:
    return {
        "content": [
            {"token": top[0][0], "logprob": top[0][1], "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}
        ]
    }


def test_the_numbers_log_probabilities_become_the_options_scores() -> None:
    scores = scores_from_logprobs(_logprobs(("2", -0.2), (" 1", -2.0), ("The", -3.0), ("3.", -4.5)), 3)
    assert scores is not None and scores.method == "logprobs"
    assert scores.logprobs == [-2.0, -0.2, -4.5]  # " 1" and "3." name options 1 and 3 too


def test_an_option_missing_from_the_top_gets_less_than_the_least_listed() -> None:
    scores = scores_from_logprobs(_logprobs(("1", -0.1), ("The", -5.0)), 3)
    assert scores is not None and scores.logprobs[0] == -0.1
    assert scores.logprobs[1] == scores.logprobs[2] == pytest.approx(-6.0)


def test_no_log_probabilities_or_no_numbers_mean_no_scores() -> None:
    assert scores_from_logprobs(None, 3) is None
    assert scores_from_logprobs({"content": []}, 3) is None
    assert scores_from_logprobs(_logprobs(("The", -0.1), ("4", -1.0)), 3) is None  # 4 is not an option


def test_the_options_are_listed_by_number() -> None:
    assert numbered_options(["SELL", "BUY"]).startswith("1. SELL\n2. BUY\n")
