"""Issue 9 items 6 and 16: terms that are not RDF 1.1 never reach the store, by any way in.

One table of hostile bodies — JSON-LD, Turtle, N-Triples, SPARQL Update and N3 Patch, into
an open and a shaped container — each refused with a 4xx problem (never 500) that names
the offending term, with nothing stored or changed and the node still answering reads
and ``/sparql``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rdflib

from ddsnode.ldp.node import Node
from ddsnode.ldp.records import rdf_record
from ddsnode.rdf.rdfterms import InvalidTerm
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, local_node

JSONLD = "application/ld+json"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
SPARQL_UPDATE = "application/sparql-update"
N3_PATCH = "text/n3"
EX = "http://example.org/"


@dataclass(frozen=True)
class Case:
    """A hostile write: method, path (under the base), media type, body, a term it names."""

    name: str
    method: str
    path: str
    media_type: str
    body: str
    names: str = ""  # a part of the offending term the problem's detail must show


def _jsonld_object(value: object) -> str:
    return json.dumps({"@id": "", f"{EX}p": value})


CASES = [
    # JSON-LD: an @id that is not an IRI, as object and as subject of a second node.
    *(Case(f"jsonld-id-{label}", "PUT", "open/t-{n}", JSONLD,
           _jsonld_object({"@id": f"{EX}a{char}b"}), names=f"{EX}a")
      for label, char in [("space", " "), ("control", "\u0001"), ("lt", "<"), ("brace", "{"),
                          ("backslash", "\\"), ("quote", '"'), ("pipe", "|"), ("caret", "^"),
                          ("backtick", "`"), ("newline", "\n"), ("del", "\u007f")]),
    Case("jsonld-subject-space", "PUT", "open/t-{n}", JSONLD,
         json.dumps({"@graph": [{"@id": "", f"{EX}p": "x"},
                                {"@id": f"{EX}a b", f"{EX}p": "y"}]}), names="a b"),
    Case("jsonld-bad-percent", "PUT", "open/t-{n}", JSONLD,
         _jsonld_object({"@id": f"{EX}a%zz"}), names="%zz"),
    Case("jsonld-predicate-space", "PUT", "open/t-{n}", JSONLD,
         json.dumps({"@id": "", f"{EX}p q": "x"})),
    # Language tags (BCP 47, RFC 5646 2.1).
    *(Case(f"jsonld-lang-{tag}", "PUT", "open/t-{n}", JSONLD,
           _jsonld_object({"@value": "x", "@language": tag}), names=tag)
      for tag in ["en_US", "en-abcdefghi", "abcdefghi", "en--us", "-en", "en-", "12"]),
    # Datatype IRIs.
    *(Case(f"jsonld-datatype-{label}", "PUT", "open/t-{n}", JSONLD,
           _jsonld_object({"@value": "x", "@type": f"{EX}t{char}"}), names=f"{EX}t")
      for label, char in [("brace", "{x}"), ("quote", '"'), ("space", " x")]),
    # A lone surrogate in a literal (JSON allows the escape; UTF-8 cannot hold it).
    Case("jsonld-lone-surrogate", "PUT", "open/t-{n}", JSONLD,
         '{"@id": "", "http://example.org/p": "a\\ud800b"}'),
    # The same classes into a shaped container (the proposal example plus one bad term).
    Case("proposal-lang-en_US", "PUT", "proposals/t-{n}", JSONLD, "PROPOSAL:en_US",
         names="en_US"),
    Case("proposal-datatype-quote", "PUT", "proposals/t-{n}", JSONLD, 'PROPOSAL:dt',
         names=f"{EX}t"),
    # Turtle and N-Triples: escapes that decode to characters an IRI may not hold.
    Case("turtle-iri-uchar-space", "PUT", "open/t-{n}", TURTLE,
         f"<> <{EX}p> <{EX}a\\u0020b> .", names="a"),
    Case("turtle-lang-9", "PUT", "open/t-{n}", TURTLE, f'<> <{EX}p> "x"@en-abcdefghi .'),
    Case("turtle-datatype-brace", "PUT", "open/t-{n}", TURTLE,
         f'<> <{EX}p> "x"^^<{EX}t\\u007Bx> .'),
    Case("ntriples-iri-uchar-lt", "PUT", "open/t-{n}", NTRIPLES,
         f"<{{self}}> <{EX}p> <{EX}a\\u003Cb> .\n"),
    Case("ntriples-relative", "PUT", "open/t-{n}", NTRIPLES, f"<{{self}}> <{EX}p> <a> .\n"),
    # PATCH results: SPARQL Update can bind anything to a variable.
    Case("sparql-literal-subject", "PATCH", "open/patched", SPARQL_UPDATE,
         f'INSERT {{ ?s <{EX}p> "x" }} WHERE {{ BIND("lit" AS ?s) }}'),
    Case("sparql-literal-predicate", "PATCH", "open/patched", SPARQL_UPDATE,
         'INSERT { <> ?p "x" } WHERE { BIND("lit" AS ?p) }'),
    Case("sparql-bnode-predicate", "PATCH", "open/patched", SPARQL_UPDATE,
         'INSERT { <> ?p "x" } WHERE { BIND(BNODE() AS ?p) }'),
    Case("sparql-iri-space", "PATCH", "open/patched", SPARQL_UPDATE,
         f'INSERT {{ <> <{EX}p> ?o }} WHERE {{ BIND(IRI("{EX}a b") AS ?o) }}'),
    Case("sparql-lang-en_US", "PATCH", "open/patched", SPARQL_UPDATE,
         f'INSERT {{ <> <{EX}p> ?o }} WHERE {{ BIND(STRLANG("x", "en_US") AS ?o) }}'),
    Case("sparql-datatype-quote", "PATCH", "open/patched", SPARQL_UPDATE,
         f'INSERT {{ <> <{EX}p> ?o }} WHERE {{ BIND(STRDT("x", IRI("{EX}t\\"x")) AS ?o) }}'),
    Case("n3-formula-object", "PATCH", "open/patched", N3_PATCH,
         "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
         f"_:p a solid:InsertDeletePatch; solid:inserts {{ <> <{EX}p> {{ <{EX}a> <{EX}b> "
         f"<{EX}c> }} }}."),
    Case("n3-literal-subject", "PATCH", "open/patched", N3_PATCH,
         "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
         f'_:p a solid:InsertDeletePatch; solid:inserts {{ "lit" <{EX}p> "x" }}.'),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("hostile-terms")
    with local_node(root, settings={"open_containers": "open/"}) as n:
        with n.client() as http:
            r = http.put("/open/patched", content=f'<> <{EX}p> "kept" .',
                         headers={"Content-Type": TURTLE})
            assert r.status_code == 201, r.text
            r = http.put("/open/other", content=f'<> <{EX}p> "other" .',
                         headers={"Content-Type": TURTLE})
            assert r.status_code == 201, r.text
        yield n


def _proposal_with(node: LocalNode, marker: str, iri: str) -> str:
    _, body = node.example("a-proposal-protected-bike-lanes")
    doc = json.loads(body)
    doc["id"] = iri
    if marker == "en_US":
        doc["title"] = {"en_US": "x"}  # a language map, as a client would write it
    else:
        doc["identifier"] = {"@value": "x", "@type": f'{EX}t"x'}
    return json.dumps(doc)


def _still_answers(node: LocalNode, http: httpx.Client) -> None:
    other = http.get("/open/other", headers={"Accept": TURTLE})
    assert other.status_code == 200, other.text
    q = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                 headers={"Accept": "application/sparql-results+json"})
    assert q.status_code == 200, q.text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_term_is_refused(node: LocalNode, case: Case) -> None:
    n = CASES.index(case)
    path = case.path.format(n=n)
    iri = node.url(path)
    body = case.body.replace("{self}", iri)
    if body.startswith("PROPOSAL:"):
        body = _proposal_with(node, body.removeprefix("PROPOSAL:"), iri)
    headers = {"Content-Type": case.media_type, **node.auth()}
    with node.client() as http:
        before = http.get(path, headers={"Accept": "application/n-triples"})
        r = http.request(case.method, path, content=body.encode("utf-8", "surrogatepass"),
                         headers=headers)
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        problem = r.json()
        assert problem["status"] == r.status_code
        if case.names:
            assert case.names in problem["detail"] or case.names in json.dumps(problem), problem
        after = http.get(path, headers={"Accept": "application/n-triples"})
        assert after.status_code == before.status_code  # nothing stored, nothing changed
        assert after.content == before.content
        _still_answers(node, http)


def test_every_refusal_by_the_term_check_names_the_term(node: LocalNode) -> None:
    """The problem type of a bad term is its own, with the term as an extension member."""
    with node.client() as http:
        r = http.put("/open/named", content=_jsonld_object({"@id": f"{EX}a b"}),
                     headers={"Content-Type": JSONLD})
        assert r.status_code == 400, r.text
        problem = r.json()
        assert problem["type"].endswith("/invalid-rdf-term")
        assert problem["term"] == f"{EX}a b"


# --- the write path itself, whatever parser (or importer, or bug) built the graph -----

_S = rdflib.URIRef(EX + "s")
_P = rdflib.URIRef(EX + "p")

#: Graphs no parser of ours produces, but an importer or a future code path could.
GRAPHS = [
    ("iri-space", (None, _P, rdflib.URIRef(EX + "a b"))),
    ("iri-relative", (None, _P, rdflib.URIRef("relative"))),
    ("literal-subject", (rdflib.Literal("lit"), _P, rdflib.Literal("x"))),
    ("literal-predicate", (None, rdflib.Literal("lit"), rdflib.Literal("x"))),
    ("bnode-predicate", (None, rdflib.BNode(), rdflib.Literal("x"))),
    ("variable", (None, _P, rdflib.Variable("v"))),
    ("bnode-label", (None, _P, rdflib.BNode("a b"))),
    ("datatype-brace", (None, _P, rdflib.Literal("x", datatype=rdflib.URIRef(EX + "{t}")))),
    ("lone-surrogate", (None, _P, rdflib.Literal("a\ud800b"))),
]


@pytest.mark.parametrize("path", ["open/core", "proposals/core"])
@pytest.mark.parametrize("name,triple", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_the_write_path_refuses_any_graph_with_a_bad_term(
        node: LocalNode, path: str, name: str, triple: tuple[object, object, object]) -> None:
    core = Node.open(Settings.load(node.dir))
    try:
        target = core.target(node.url(path))
        assert target.container is not None
        graph = rdflib.Graph()
        main = rdflib.URIRef(target.iri)
        graph.add((main, rdflib.RDF.type, rdflib.URIRef("https://w3id.org/dds/ns#Proposal")))
        s, p, o = triple
        graph.add((main if s is None else s, p, o))  # type: ignore[arg-type]
        with pytest.raises(InvalidTerm):
            rdf_record(target, target.container, graph, None, publisher=node.base,
                       engine="fast")
        assert core.store.get(target.iri) is None
    finally:
        core.close()
