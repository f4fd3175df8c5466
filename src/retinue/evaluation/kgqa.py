"""Scoring knowledge-graph QA: Hits@1 on all questions and on those this graph can answer."""

from collections.abc import Sequence
from typing import Any

from retinue.envs.knowledge_graph import normalise


def hit(prediction: str | None, answers: Sequence[str]) -> bool:
    """Whether the top answer is one of the gold answers (case, accents and punctuation ignored)."""
    return prediction is not None and normalise(prediction) in {normalise(a) for a in answers}


def kgqa_metrics(
    results: Sequence[dict[str, Any]], answers: Sequence[Sequence[str]], answerable: Sequence[bool]
) -> dict[str, Any]:
    """Flat metrics of an evaluation; `results` are QuestionResult records in question order."""
    count = len(results)
    hits = [hit(r["prediction"], gold) for r, gold in zip(results, answers, strict=True)]
    reachable = [h for h, ok in zip(hits, answerable, strict=True) if ok]
    return {
        "questions": count,
        "answerable_questions": len(reachable),
        "hits_at_1": round(sum(hits) / count, 4) if count else 0.0,
        "hits_at_1_answerable": round(sum(reachable) / len(reachable), 4) if reachable else 0.0,
        "no_answer": sum(1 for r in results if r["prediction"] is None),
        "llm_calls": sum(r["llm_calls"] for r in results),
        "llm_calls_per_question": round(sum(r["llm_calls"] for r in results) / count, 3) if count else 0.0,
        "tokens_per_question": round(sum(r["tokens"] for r in results) / count, 1) if count else 0.0,
        "seconds_per_question": round(sum(r["seconds"] for r in results) / count, 3) if count else 0.0,
    }
