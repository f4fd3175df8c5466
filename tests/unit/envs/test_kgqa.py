"""Question sets: MetaQA's format and gold paths, clear errors, a deterministic dev split."""

from pathlib import Path

import pytest

from retinue.envs.kgqa import metaqa_questions, qtype_path, read_questions, split_dev
from retinue.envs.knowledge_graph import Step
from retinue.errors import RetinueError
from retinue.paths import data_root


def test_qtypes_become_relation_paths() -> None:
    assert qtype_path("actor_to_movie") == (Step("starred_actors", True),)
    assert qtype_path("movie_to_director_to_movie_to_genre") == (
        Step("directed_by"),
        Step("directed_by", True),
        Step("has_genre"),
    )
    with pytest.raises(RetinueError, match="unknown MetaQA question type"):
        qtype_path("actor_to_producer")


def test_question_files_parse_and_bad_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("who directed [Kismet]\tWilliam Dieterle\n\nwhen was [Juarez] released\t1939|1940\n")
    first, second = read_questions(path)
    assert (first.topic, first.answers) == ("Kismet", ("William Dieterle",))
    assert second.answers == ("1939", "1940") and second.path is None
    path.write_text("who directed [Kismet]\n")
    with pytest.raises(RetinueError, match=r"q.txt:1: expected 'question<TAB>answer1\|answer2'"):
        read_questions(path)
    with pytest.raises(RetinueError, match="question file not found"):
        read_questions(tmp_path / "none.txt")


def test_metaqa_dev_loads_with_paths_and_splits_by_seed() -> None:
    questions = metaqa_questions(data_root(), 2)
    assert len(questions) == 14_872
    assert questions[0].hops == 2 and questions[0].topic == "Joel Zwick"
    assert sum(1 for q in questions if q.answerable) == 14_395
    train, validation = split_dev(questions, seed=0)
    assert len(validation) == round(len(questions) * 0.2)
    assert not {q.id for q in train} & {q.id for q in validation}
    assert split_dev(questions, seed=0)[1] == validation and split_dev(questions, seed=1)[1] != validation
    with pytest.raises(RetinueError, match="--hops must be 1, 2 or 3"):
        metaqa_questions(data_root(), 4)
