"""Scoring knowledge-graph QA: Hits@1, and how often the planner's plan is the gold relation path."""

from retinue.evaluation.kgqa import kgqa_metrics, plan_agreement


def _result(prediction: str | None, plan: list[str] | None) -> dict[str, object]:
    return {
        "prediction": prediction,
        "plan": {"path": plan} if plan is not None else None,
        "llm_calls": 2,
        "tokens": 10,
        "seconds": 1.0,
    }


def test_hits_count_normalised_answers_and_plans_are_compared_with_gold_paths() -> None:
    results = [_result("Ridley Scott", ["directed_by"]), _result(None, ["written_by"]), _result("x", None)]
    metrics = kgqa_metrics(results, [["ridley scott"], ["a"], ["y"]], [True, True, False])
    assert metrics["hits_at_1"] == round(1 / 3, 4) and metrics["hits_at_1_answerable"] == 0.5
    assert metrics["no_answer"] == 1
    agreement = plan_agreement(results, [["directed_by"], ["directed_by"], ["has_genre"]])
    assert agreement == {"plans_compared": 2, "plans_matching_gold": 0.5}  # no plan: not compared
    assert plan_agreement(results, [None, None, None]) == {}  # no gold paths (an RDF file): nothing
