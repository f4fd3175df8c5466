"""SynthesizRR and few-shot synthesis with the scripted teacher; diversity metrics by hand."""

import numpy as np
import pytest

import retinue.models.student as student
import retinue.training.synthesizrr as synth
from retinue.config import LLMConfig
from retinue.llms import ScriptedChatModel


def _fake_embed(texts: list[str]) -> np.ndarray:
    vocabulary = ["profit", "loss", "factory", "tesla", "bank", "rates"]
    rows = [[float(w in t.lower()) for w in vocabulary] + [0.3] for t in texts]
    return np.asarray(rows, dtype=np.float32)


@pytest.fixture(autouse=True)
def fake_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(student, "embed", _fake_embed)
    monkeypatch.setattr(synth, "embed", _fake_embed)


SEEDS = [("Company profit rose sharply", "positive"), ("Bank loss widened", "negative")]
DOCUMENTS = ["Tesla opens a factory with profit in mind", "Bank rates and loss provisions grow", "rates"]


def test_synthesizrr_grounds_each_example_in_a_related_document() -> None:
    teacher = ScriptedChatModel(
        responses=[
            '{"text": "Tesla expects its new factory to lift profit"}',
            '{"text": "Bank provisions for loss jump"}',
        ]
    )
    found = synth.synthesize(SEEDS, synth.Corpus(DOCUMENTS), teacher, LLMConfig(backoff_seconds=0))
    teacher.assert_all_used()
    assert [(e.label, e.document) for e in found] == [("positive", DOCUMENTS[0]), ("negative", DOCUMENTS[1])]
    first = str(teacher.calls[0].messages[-1].content)
    assert "Tesla opens a factory" in first and "positive sentences" in first and "Company profit rose" in first


def test_few_shot_has_no_document_and_duplicates_are_dropped() -> None:
    teacher = ScriptedChatModel(responses=['{"text": "Profit beat every estimate"}'] * 2 + ["nonsense"] * 3)
    found = synth.few_shot(SEEDS + [("Costs fell", "positive")], teacher, LLMConfig(backoff_seconds=0))
    assert [e.text for e in found] == ["Profit beat every estimate"]  # a duplicate and a fallback dropped
    assert "article" not in str(teacher.calls[0].messages[-1].content)


def test_diversity_metrics_by_hand() -> None:
    assert synth.distinct_n(["a b a", "a b"], 1) == pytest.approx(2 / 5)
    assert synth.distinct_n(["a b a", "a b"], 2) == pytest.approx(2 / 3)
    assert synth.bleu(
        ["the", "cat", "sat", "on", "the", "mat"], [["the", "cat", "sat", "on", "the", "mat"]]
    ) == pytest.approx(1.0)
    assert synth.bleu(["dogs", "run"], [["the", "cat", "sat", "on", "the", "mat"]]) == 0.0
    assert synth.self_bleu(["same words here now", "same words here now", "other text entirely different"]) > 0.5


def test_entities_are_capitalised_runs_and_their_entropy_is_in_bits() -> None:
    assert synth.entities("Shares of Nokia Oyj rose in Helsinki, the EUR firmed.") == ["Nokia Oyj", "Helsinki", "EUR"]
    assert synth.entities("Profit rose.") == [] and synth.entities("Apple Inc. beat (Reuters)") == [
        "Apple Inc",
        "Reuters",
    ]
    assert synth.entity_entropy(["Nokia fell", "Nokia rose"]) == 0.0
    assert synth.entity_entropy(["in Nokia and Apple", "at Tesla and Apple"]) == pytest.approx(1.5)  # 1/4, 1/4, 1/2
    assert synth.entity_entropy(["nothing here", ""]) == 0.0
