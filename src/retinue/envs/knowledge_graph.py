"""A knowledge graph on rdflib: MetaQA's `kb.txt` or any RDF file, looked up only by bound SPARQL variables.

Entities are URIs with an `rdfs:label`; a relation can be walked forwards (`directed_by`: film to director)
or backwards (`^directed_by`: director to films, SPARQL's inverse-path notation). Every query is a constant
prepared once; names and entities reach it through `initBindings`, so no text a user types ever becomes
query syntax.
"""

import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Identifier

from retinue.errors import RetinueError

ENTITY = "urn:retinue:entity:"
RELATION = "urn:retinue:relation:"

_BY_LABEL = prepareQuery("SELECT ?entity WHERE { ?entity rdfs:label ?name }", initNs={"rdfs": RDFS})
_OBJECTS = prepareQuery("SELECT ?tail WHERE { ?head ?relation ?tail }")
_SUBJECTS = prepareQuery("SELECT ?head WHERE { ?head ?relation ?tail }")
_OUTGOING = prepareQuery("SELECT DISTINCT ?relation WHERE { ?head ?relation ?tail }")
_INCOMING = prepareQuery("SELECT DISTINCT ?relation WHERE { ?head ?relation ?tail }")
_RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".n3": "n3", ".rdf": "xml", ".xml": "xml", ".jsonld": "json-ld"}
_BRACKETED = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True, order=True)
class Step:
    """One hop: a relation walked forwards (head to tail) or backwards (tail to head)."""

    relation: str
    inverse: bool = False

    @property
    def name(self) -> str:
        return f"^{self.relation}" if self.inverse else self.relation

    @property
    def words(self) -> str:
        """The step as words, for the plug-in model's sentence encoder."""
        words = self.relation.replace("_", " ")
        return f"reverse of {words}" if self.inverse else words

    @classmethod
    def parse(cls, name: str) -> "Step":
        return cls(name[1:], True) if name.startswith("^") else cls(name)


def normalise(name: str) -> str:
    """Case, accents and punctuation folded away: "Amélie!" and "amelie" match."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def _local_name(uri: str) -> str:
    return re.split(r"[#/:]", uri.rstrip("/#"))[-1].replace("_", " ")


class KnowledgeGraph:
    """An rdflib graph with name lookup, relation lists and one-hop neighbours."""

    def __init__(self, graph: Graph, source: str, load_seconds: float = 0.0) -> None:
        self.graph = graph
        self.source = source
        self.load_seconds = load_seconds
        self._relation_uris: dict[str, URIRef] = {}
        self._relation_names: dict[Identifier, str] = {}
        self._labels: dict[Identifier, str] = {}
        self._by_normalised: dict[str, list[Identifier]] = {}
        self._index()

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> "KnowledgeGraph":
        """MetaQA's `head|relation|tail` lines (`.txt`) or an RDF file (Turtle, N-Triples, RDF/XML, ...)."""
        if not path.is_file():
            raise RetinueError(f"knowledge graph file not found: {path}")
        started = time.perf_counter()
        graph = _read_triples(path) if path.suffix == ".txt" else _read_rdf(path)
        if len(graph) == 0:
            raise RetinueError(f"{path} holds no triples")
        kg = cls(graph, str(path))
        kg.load_seconds = time.perf_counter() - started  # parsing and indexing
        return kg

    def _index(self) -> None:
        nodes: set[Identifier] = set()
        label = RDFS.label  # looked up once: a namespace attribute costs a call per triple
        for subject, predicate, obj in cast(Iterable[tuple[Identifier, Identifier, Identifier]], self.graph):
            if predicate == label:
                self._labels[subject] = str(obj)
                continue
            if predicate not in self._relation_names:
                self._add_relation(URIRef(str(predicate)))
            nodes.update((subject, obj))
        for node in nodes:
            if key := normalise(self.label(node)):
                self._by_normalised.setdefault(key, []).append(node)

    def _add_relation(self, uri: URIRef) -> None:
        text = str(uri)
        name = text[len(RELATION) :] if text.startswith(RELATION) else _local_name(text).replace(" ", "_")
        if name in self._relation_uris:  # two vocabularies with the same local name: keep both apart
            name = text
        self._relation_uris[name] = uri
        self._relation_names[uri] = name

    # ---- vocabulary ----------------------------------------------------------------------------

    @property
    def relations(self) -> list[str]:
        return sorted(self._relation_uris)

    @property
    def steps(self) -> list[Step]:
        """Every relation in both directions: the explorer's move set."""
        return [Step(r, inverse) for r in self.relations for inverse in (False, True)]

    def label(self, node: Identifier) -> str:
        if node in self._labels:
            return self._labels[node]
        if isinstance(node, Literal):
            return str(node)
        return _local_name(str(node))

    @property
    def triple_count(self) -> int:
        return len(self.graph)

    @property
    def entity_count(self) -> int:
        return sum(len(nodes) for nodes in self._by_normalised.values())

    # ---- lookups (SPARQL with bound variables only) ----------------------------------------------

    def _select(self, query: Any, bindings: dict[str, Identifier], limit: int | None = None) -> list[Identifier]:
        """The first column of a prepared query's rows, with `bindings` as its bound variables."""
        rows = cast(Iterable[tuple[Identifier, ...]], self.graph.query(query, initBindings=bindings))
        return [row[0] for row in islice(rows, limit)]

    def find(self, name: str) -> list[Identifier]:
        """Entities called `name`: exactly by label first, then by normalised name."""
        exact = self._select(_BY_LABEL, {"name": Literal(name)})
        if exact:
            return sorted(exact, key=str)
        return sorted(self._by_normalised.get(normalise(name), []), key=str)

    def neighbours(self, node: Identifier, step: Step, limit: int | None = None) -> list[Identifier]:
        """Entities one `step` away from `node`, at most `limit` of them."""
        relation = self._relation_uris.get(step.relation)
        if relation is None:
            raise RetinueError(f"no relation {step.relation!r} in {self.source}")
        if step.inverse:
            return self._select(_SUBJECTS, {"tail": node, "relation": relation}, limit)
        return self._select(_OBJECTS, {"head": node, "relation": relation}, limit)

    def steps_from(self, node: Identifier) -> list[Step]:
        """The steps that lead anywhere from `node`."""
        found = {
            Step(self._relation_names[r]) for r in self._select(_OUTGOING, {"head": node}) if r in self._relation_names
        }
        if not isinstance(node, Literal):
            incoming = self._select(_INCOMING, {"tail": node})
            found |= {Step(self._relation_names[r], True) for r in incoming if r in self._relation_names}
        return sorted(found)

    def mentions(self, text: str) -> list[tuple[str, list[Identifier]]]:
        """The entity mentions in a question: bracketed names (MetaQA's `[Tom Hanks]`) if there are any,
        else the longest word spans that name an entity. Each mention with the entities it names."""
        bracketed = _BRACKETED.findall(text)
        if bracketed:
            return [(name, self.find(name.strip())) for name in bracketed]
        words = text.split()
        found: list[tuple[str, list[Identifier]]] = []
        start = 0
        while start < len(words):
            for end in range(min(len(words), start + 8), start, -1):
                span = " ".join(words[start:end])
                if normalise(span) and (nodes := self._by_normalised.get(normalise(span))):
                    found.append((span, sorted(nodes, key=str)))
                    start = end
                    break
            else:
                start += 1
        return found


def _entity(name: str) -> URIRef:
    return URIRef(ENTITY + quote(name, safe=""))


def _read_triples(path: Path) -> Graph:
    graph = Graph()
    entities: dict[str, URIRef] = {}  # each name's URI, made once: a name recurs in many lines
    relations: dict[str, URIRef] = {}

    def quads() -> Iterable[tuple[Identifier, Identifier, Identifier, Graph]]:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                parts = line.rstrip("\n").split("|")
                if len(parts) != 3 or not all(p.strip() for p in parts):
                    raise RetinueError(f"{path}:{number}: expected head|relation|tail, got {line.strip()[:80]!r}")
                head, relation, tail = parts
                for name in (head, tail):
                    if name not in entities:
                        entities[name] = _entity(name)
                        yield entities[name], RDFS.label, Literal(name), graph
                if relation not in relations:
                    relations[relation] = URIRef(RELATION + quote(relation, safe=""))
                yield entities[head], relations[relation], entities[tail], graph

    try:
        graph.addN(quads())
    except UnicodeDecodeError as error:
        raise RetinueError(f"{path} is not UTF-8 text: {error}") from None
    return graph


def _read_rdf(path: Path) -> Graph:
    rdf_format = _RDF_FORMATS.get(path.suffix.lower())
    if rdf_format is None:
        known = ", ".join(sorted({".txt", *_RDF_FORMATS}))
        raise RetinueError(f"{path}: unknown knowledge-graph format {path.suffix!r} (known: {known})")
    graph = Graph()
    try:
        graph.parse(path, format=rdf_format)
    except Exception as error:  # rdflib raises parser-specific types (BadSyntax, SAXParseException, ...)
        raise RetinueError(f"{path} is not valid {rdf_format}: {str(error).strip()[:300]}") from None
    return graph
