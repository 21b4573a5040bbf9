"""Issue 9 item 8: typed values are stored and served as they were sent.

A literal's lexical form is part of the RDF term (RDF 1.1 Concepts 3.3): ``"007"`` and
``"7"`` are two terms of one value. For each typed value of a table — non-canonical
integers, doubles, decimals, booleans, date-times with ``Z`` or fractions, ill-typed
forms — written in Turtle, N-Triples or JSON-LD: every representation read back (Turtle,
N-Triples, JSON-LD, expanded and compacted) is the same graph with the same lexical
forms, and a PATCH deleting the value as written deletes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib

from ddsnode.rdf import jsonld, rdfio
from tests.support.inprocess import LocalNode, local_node

XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "http://example.org/"
JSONLD = "application/ld+json"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"

#: (lexical form, datatype local name): forms rdflib rewrote ("007" -> "7", …).
VALUES = [
    ("007", "integer"), ("+5", "integer"), ("-0", "integer"), ("0012", "nonNegativeInteger"),
    ("5.3E0", "double"), ("1e3", "double"), ("0.0", "double"), ("INF", "double"),
    ("4.57741E1", "double"), ("1.50", "decimal"), (".5", "decimal"), ("125000.00", "decimal"),
    ("1", "boolean"), ("0", "boolean"), ("true", "boolean"),
    ("2026-01-01T10:00:00Z", "dateTime"), ("2026-01-01T10:00:00.000+00:00", "dateTime"),
    ("2026-01-01T12:00:00+02:00", "dateTime"), ("2026-03-01Z", "date"),
    ("2026-02-30", "date"), ("abc", "integer"), ("TRUE", "boolean"),
]


def _turtle(subject: str, values: list[tuple[str, str]]) -> str:
    return "\n".join(f'<{subject}> <{EX}p{i}> "{v}"^^<{XSD}{d}> .'
                     for i, (v, d) in enumerate(values))


def _forms(graph: rdflib.Graph) -> set[tuple[str, str, str]]:
    """(predicate, lexical form, datatype) of every literal: what must survive unchanged."""
    return {(str(p), str(o), str(o.datatype)) for _, p, o in graph
            if isinstance(o, rdflib.Literal)}


def _expected(values: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    return {(f"{EX}p{i}", v, XSD + d) for i, (v, d) in enumerate(values)}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("lexical")
    with local_node(root, settings={"open_containers": "open/"}) as n:
        yield n


def _read_back(node: LocalNode, path: str) -> dict[str, rdflib.Graph]:
    iri = node.url(path)
    graphs = {}
    with node.client() as http:
        for accept, parse in [
            (TURTLE, lambda b: rdfio.parse(b, "turtle", iri)),
            (NTRIPLES, lambda b: rdfio.parse(b, "nt", iri)),
            (JSONLD, lambda b: jsonld.parse_document(b, iri)),
            (f'{JSONLD};profile="http://www.w3.org/ns/json-ld#expanded"',
             lambda b: jsonld.parse_document(b, iri)),
        ]:
            r = http.get(path, headers={"Accept": accept, **node.auth()})
            assert r.status_code == 200, r.text
            graphs[accept] = parse(r.content)
    return graphs


@pytest.mark.parametrize("media_type", [TURTLE, NTRIPLES, JSONLD])
def test_every_representation_keeps_the_lexical_forms(node: LocalNode, media_type: str) -> None:
    path = f"open/lex-{media_type.split('/')[1]}"
    iri = node.url(path)
    if media_type == JSONLD:
        body = json.dumps({"@id": iri, **{f"{EX}p{i}": {"@value": v, "@type": XSD + d}
                                           for i, (v, d) in enumerate(VALUES)}})
    else:
        body = _turtle(iri, VALUES)
    with node.client() as http:
        r = http.put(path, content=body.encode(), headers={"Content-Type": media_type})
        assert r.status_code == 201, r.text
    graphs = _read_back(node, path)
    for accept, graph in graphs.items():
        assert _forms(graph) == _expected(VALUES), accept
    first, *others = graphs.values()
    assert all(set(first) == set(g) for g in others)


@pytest.mark.parametrize("i", range(len(VALUES)), ids=[f"{v}-{d}" for v, d in VALUES])
def test_patch_deletes_the_value_as_written(node: LocalNode, i: int) -> None:
    value, datatype = VALUES[i]
    path = f"open/patch-{i}"
    iri = node.url(path)
    with node.client() as http:
        r = http.put(path, content=_turtle(iri, [(value, datatype)]).encode(),
                     headers={"Content-Type": TURTLE})
        assert r.status_code == 201, r.text
        update = (f'DELETE DATA {{ <{iri}> <{EX}p0> "{value}"^^<{XSD}{datatype}> }} ; '
                  f'INSERT DATA {{ <{iri}> <{EX}q> "{value}"^^<{XSD}{datatype}> }}')
        r = http.patch(path, content=update.encode(),
                       headers={"Content-Type": "application/sparql-update"})
        assert r.status_code in (200, 204), r.text
        nt = http.get(path, headers={"Accept": NTRIPLES}).text
    assert f"<{EX}p0>" not in nt
    assert f'<{EX}q> "{value}"^^<{XSD}{datatype}>' in nt


def test_compacted_typed_terms_keep_their_forms(node: LocalNode) -> None:
    """A shaped resource: the context's typed terms carry non-canonical forms as strings."""
    iri, body = node.example("a-proposal-school-streets")
    doc = json.loads(body)
    doc["supportCount"] = "0128"
    doc["lat"] = "45.7741"  # xsd:double by the term, written as a decimal-looking form
    with node.client() as http:
        r = http.put(iri, content=json.dumps(doc).encode(),
                     headers={"Content-Type": JSONLD, **node.auth()})
        assert r.status_code == 201, r.text
        compacted = http.get(iri, headers={"Accept": JSONLD}).json()
    assert compacted["supportCount"] == "0128"
    graphs = _read_back(node, iri.removeprefix(node.base))
    for accept, graph in graphs.items():
        forms = {(str(o), str(o.datatype)) for o in graph.objects() if
                 isinstance(o, rdflib.Literal)}
        assert ("0128", XSD + "nonNegativeInteger") in forms, accept
        assert ("45.7741", XSD + "double") in forms, accept
    first, *others = graphs.values()
    assert all(set(first) == set(g) for g in others)


def test_pyshacl_never_turns_literal_normalisation_on() -> None:
    """pyshacl switches rdflib's process-wide normalisation on after each validation; a
    render in another thread at that moment rewrote ``…Z`` into ``…+00:00`` in CI. With
    the reference engine loaded, no moment of a validation leaves it on."""
    import pyshacl
    import rdflib

    import ddsnode.validation.reference  # noqa: F401  (it replaces pyshacl's unpatch)

    seen: list[bool] = []
    data, shapes = rdflib.Graph(), rdflib.Graph()
    data.add((rdflib.URIRef("urn:x"), rdflib.RDF.value,
              rdflib.Literal("2026-12-07T17:29:56Z", datatype=rdflib.XSD.dateTime)))
    pyshacl.validate(data, shacl_graph=shapes)
    seen.append(rdflib.NORMALIZE_LITERALS)
    after = rdflib.Literal("2026-12-07T17:29:56Z", datatype=rdflib.XSD.dateTime)
    assert seen == [False]
    assert str(after) == "2026-12-07T17:29:56Z"
    assert rdflib.Literal("true", datatype=rdflib.XSD.boolean).toPython() is True
    assert rdflib.Literal("1", datatype=rdflib.XSD.boolean).toPython() is True  # rdflib's reading back
