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


def plan_agreement(results: Sequence[dict[str, Any]], gold_paths: Sequence[list[str] | None]) -> dict[str, Any]:
    """How often the planner's last plan of a question is its gold relation path (MetaQA's, from the
    question type), over the questions that have both; nothing for a method without a planner."""
    pairs = [
        ((result.get("plan") or {}).get("path"), gold)
        for result, gold in zip(results, gold_paths, strict=True)
        if gold is not None and result.get("plan") is not None
    ]
    if not pairs:
        return {}
    return {
        "plans_compared": len(pairs),
        "plans_matching_gold": round(sum(1 for planned, gold in pairs if planned == gold) / len(pairs), 4),
    }
