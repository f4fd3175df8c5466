"""The knowledge graph: loading kb.txt and RDF, name lookup, neighbours both ways, inert user text."""

from pathlib import Path

import pytest

from retinue.envs.knowledge_graph import KnowledgeGraph, Step, normalise
from retinue.errors import RetinueError

KB = """Kismet|directed_by|William Dieterle
Kismet|starred_actors|Ronald Colman
Kismet|starred_actors|Marlene Dietrich
Juarez|directed_by|William Dieterle
Juarez|release_year|1939
Amélie|directed_by|Jean-Pierre Jeunet
x" } ; DROP ALL ; SELECT * { ?s ?p ?o|written_by|Robert'); DROP TABLE films;--
"""

TURTLE = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:alien ex:directedBy ex:scott ; rdfs:label "Alien" ; ex:year "1979" .
ex:scott rdfs:label "Ridley Scott" .
ex:blade_runner ex:directedBy ex:scott .
"""


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path = tmp_path_factory.mktemp("kg") / "kb.txt"
    path.write_text(KB, encoding="utf-8")
    return KnowledgeGraph.load(path)


def _labels(kg: KnowledgeGraph, nodes: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(kg.label(n) for n in nodes)


def test_metaqa_lines_load_with_relations_and_labels(kg: KnowledgeGraph) -> None:
    assert kg.relations == ["directed_by", "release_year", "starred_actors", "written_by"]
    assert kg.triple_count == 7 + 10  # relation triples + one label per distinct name
    assert len(kg.steps) == 8 and Step("directed_by", True) in kg.steps


def test_lookup_is_exact_then_normalised(kg: KnowledgeGraph) -> None:
    assert _labels(kg, kg.find("Kismet")) == ["Kismet"]
    assert _labels(kg, kg.find("amelie")) == ["Amélie"]
    assert _labels(kg, kg.find("  WILLIAM dieterle! ")) == ["William Dieterle"]
    assert kg.find("Casablanca") == []


def test_neighbours_follow_a_relation_forwards_and_backwards(kg: KnowledgeGraph) -> None:
    (kismet,) = kg.find("Kismet")
    (dieterle,) = kg.find("William Dieterle")
    assert _labels(kg, kg.neighbours(kismet, Step("starred_actors"))) == ["Marlene Dietrich", "Ronald Colman"]
    assert _labels(kg, kg.neighbours(dieterle, Step("directed_by", inverse=True))) == ["Juarez", "Kismet"]
    assert len(kg.neighbours(dieterle, Step("directed_by", inverse=True), limit=1)) == 1
    assert kg.steps_from(dieterle) == [Step("directed_by", True)]
    with pytest.raises(RetinueError, match="no relation 'produced_by'"):
        kg.neighbours(kismet, Step("produced_by"))


def test_user_text_is_never_query_syntax(kg: KnowledgeGraph) -> None:
    size = kg.triple_count
    name = 'x" } ; DROP ALL ; SELECT * { ?s ?p ?o'
    (node,) = kg.find(name)  # found as a plain name, by a bound variable
    assert _labels(kg, kg.neighbours(node, Step("written_by"))) == ["Robert'); DROP TABLE films;--"]
    assert kg.find('" } DELETE WHERE { ?s ?p ?o } #') == []
    assert kg.triple_count == size


def test_mentions_prefer_brackets_else_longest_spans(kg: KnowledgeGraph) -> None:
    assert [(m, _labels(kg, n)) for m, n in kg.mentions("who directed [Juarez]")] == [("Juarez", ["Juarez"])]
    assert kg.mentions("who starred in [Casablanca]") == [("Casablanca", [])]
    spans = [m for m, _ in kg.mentions("which films did William Dieterle direct")]
    assert spans == ["William Dieterle"]
    assert kg.mentions("nothing here") == []


def test_rdf_files_load_with_labels_or_local_names(tmp_path: Path) -> None:
    path = tmp_path / "films.ttl"
    path.write_text(TURTLE, encoding="utf-8")
    kg = KnowledgeGraph.load(path)
    assert kg.relations == ["directedBy", "year"]
    (scott,) = kg.find("Ridley Scott")
    assert _labels(kg, kg.neighbours(scott, Step("directedBy", True))) == ["Alien", "blade runner"]
    (alien,) = kg.find("alien")
    assert _labels(kg, kg.neighbours(alien, Step("year"))) == ["1979"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.ttl", "@prefix ex: <http://example.org/> .\nex:a ex:b", "is not valid turtle"),
        ("bad.txt", "Kismet|directed_by\n", "bad.txt:1: expected head|relation|tail"),
        ("empty.nt", "", "holds no triples"),
        ("graph.csv", "a,b,c\n", "unknown knowledge-graph format '.csv'"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RetinueError, match=message):
        KnowledgeGraph.load(path)
    with pytest.raises(RetinueError, match="not found"):
        KnowledgeGraph.load(tmp_path / "missing.ttl")


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Amélie!  Poulain ") == "amelie poulain"
