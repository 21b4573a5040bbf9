"""The specialised compactor and the pyoxigraph Turtle path against the reference tools.

For every ``examples/*.jsonld``, every parsable ``examples/invalid/*.jsonld`` and about
twenty seeded variants of each valid example (``tests/support/variants.py``):

* our compacted JSON-LD, expanded back by pyld with the bundled context, is the input
  graph (isomorphic); so is our expanded JSON-LD;
* our compacted and expanded JSON-LD equal pyld's (``representation.pyld_compacted``,
  ``pyld_expanded``) up to the order of values in arrays, and with the same key order:
  pyld's value order follows rdflib's triple order, ours is fixed so equal graphs give
  equal bytes (JSON-LD sets are unordered, JSON-LD 1.1 4.3.1);
* our Turtle parses (rdflib and pyoxigraph) to the input graph, and pyoxigraph's parser
  gives the graph rdflib's does.

The independent parsers (jsonld.js, N3.js; ``tests/support/judges.py``) read a sample.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic

from ddsnode import resources
from ddsnode.ldp import representation
from ddsnode.problem import BadRequest
from ddsnode.rdf import compaction, rdfio
from ddsnode.rdf.jsonld import jsonld_to_graph, parse_rdf
from ddsnode.rdf.vocab import RDF
from tests.support.judges import node_available, parse_many
from tests.support.sampling import sampled
from tests.support.variants import variants

EXAMPLES = sorted(resources.examples_dir().glob("*.jsonld"))
INVALID = sorted((resources.examples_dir() / "invalid").glob("*.jsonld"))


@contextmanager
def _quiet() -> Iterator[None]:
    # Variants hold ill-typed literals on purpose; rdflib warns when it meets them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _load(path: Path) -> tuple[rdflib.Graph, str | None]:
    with _quiet():
        graph = parse_rdf(path.read_bytes(), "json-ld")
    main = json.loads(path.read_bytes()).get("id")
    return graph, main


def _cases() -> list[tuple[str, rdflib.Graph, str | None]]:
    cases = []
    for path in [*EXAMPLES, *INVALID]:
        try:
            graph, main = _load(path)
        except BadRequest:
            continue  # an invalid example that is not even JSON-LD
        cases.append((path.stem, graph, main))
    classes = sorted({o for _, g, _ in cases for o in g.objects(None, RDF.type)}, key=str)
    for path in EXAMPLES:
        graph, main = _load(path)
        with _quiet():
            cases += [(v.name, v.graph, main) for v in variants(graph, path.stem, classes)]
    return cases


CASES = _cases()
# Every example and invalid example in the fast loop, a fixed sample of the variants
# (tests/support/sampling.py); CI runs them all.
N_DOCUMENTS = len(EXAMPLES) + len(INVALID)
PARAMS = sampled(CASES, [c[0] for c in CASES], keep=N_DOCUMENTS)


def _canon(value: Any) -> Any:
    """JSON with arrays sorted (value order carries no meaning here)."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canon(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


_LANGUAGE_KEY = re.compile(r"^([a-z]{2,3}(-[a-z0-9]+)*|@none)$")


def _expand_key(key: str) -> str:
    ctx = compaction._context()
    if key in ctx.terms:
        return str(ctx.terms[key]["@id"])
    prefix, sep, local = key.partition(":")
    return ctx.prefixes[prefix] + local if sep and prefix in ctx.prefixes else key


def _keys(value: Any) -> Any:
    """The order of the properties of every object (arrays sorted as in :func:`_canon`).
    Keys that expand to the same property (a term and a compact IRI sharing its values)
    and a language map's keys follow the value order, so those are compared as sets."""
    if isinstance(value, dict):
        if all(_LANGUAGE_KEY.match(k) for k in value):
            return sorted((k, _keys(v)) for k, v in value.items())
        groups: dict[str, list[Any]] = {}
        for k, v in value.items():
            groups.setdefault(_expand_key(k), []).append((k, _keys(v)))
        return [(iri, sorted(members, key=json.dumps)) for iri, members in groups.items()]
    if isinstance(value, list):
        return sorted((_keys(v) for v in value), key=json.dumps)
    return None


def _rdf11(graph: rdflib.Graph) -> rdflib.Graph:
    """``graph`` with RDF 1.1 term equality made literal: ``"x"^^xsd:string`` is ``"x"`` and
    language tags are case-insensitive (RDF 1.1 Concepts 3.3); rdflib keeps both apart."""
    def term(node: Any) -> Any:
        if isinstance(node, rdflib.Literal):
            if node.language:
                return rdflib.Literal(str(node), lang=node.language.lower())
            if node.datatype == rdflib.XSD.string:
                return rdflib.Literal(str(node))
        return node
    out = rdflib.Graph()
    with _quiet():
        for s, p, o in graph:
            out.add((s, p, term(o)))
    return out


def same_graph(a: rdflib.Graph, b: rdflib.Graph) -> bool:
    """Isomorphic under RDF 1.1 term equality."""
    with _quiet():  # rdflib hashes terms through n3(), which warns on ill-typed numbers
        return isomorphic(_rdf11(a), _rdf11(b))


def _back(document: Any) -> rdflib.Graph:
    with _quiet():
        return jsonld_to_graph(json.loads(json.dumps(document)))


@pytest.mark.parametrize(("name", "graph", "main"), PARAMS)
def test_compacted_round_trips_and_matches_pyld(name: str, graph: rdflib.Graph,
                                                main: str | None) -> None:
    """Ours expands back to the input graph and equals pyld's compaction."""
    ours = compaction.compacted(graph, main)
    assert ours["@context"] == resources.CONTEXT_IRI
    assert same_graph(_back(ours), graph)
    with _quiet():
        reference = representation.pyld_compacted(graph, main)
    assert _canon(ours) == _canon(reference)
    assert _keys(ours) == _keys(reference)


@pytest.mark.parametrize(("name", "graph", "main"), PARAMS)
def test_expanded_round_trips_and_matches_pyld(name: str, graph: rdflib.Graph,
                                               main: str | None) -> None:
    """Our expanded form is the input graph and equals pyld's RDF-to-object conversion."""
    ours = compaction.expanded(graph, main)
    assert same_graph(_back(ours), graph)
    with _quiet():
        reference = representation.pyld_expanded(graph, main)
    assert _canon(ours) == _canon(reference)


@pytest.mark.parametrize(("name", "graph", "main"), PARAMS)
def test_turtle_round_trips(name: str, graph: rdflib.Graph, main: str | None) -> None:
    """Our Turtle reads back as the input graph, by pyoxigraph and by rdflib."""
    body = representation.turtle(graph, main)
    with _quiet():
        by_rdflib = rdflib.Graph().parse(data=body.decode("utf-8"), format="turtle")
        ours = parse_rdf(body, "turtle")
    assert same_graph(ours, graph)
    assert same_graph(by_rdflib, graph)


@pytest.mark.parametrize(("name", "graph", "main"), PARAMS)
def test_ntriples_bytes_are_rdflibs(name: str, graph: rdflib.Graph, main: str | None) -> None:
    """Our N-Triples writer gives rdflib's bytes (sorted lines): stored data is unchanged."""
    with _quiet():
        text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in text.splitlines() if line.strip())
    assert representation.ntriples(graph) == ("\n".join(lines) + "\n").encode("utf-8")
    assert same_graph(rdfio.graph_from_ntriples(representation.ntriples(graph).decode()), graph)


@pytest.mark.parametrize("path", EXAMPLES[:8], ids=[p.stem for p in EXAMPLES[:8]])
def test_pyoxigraph_parser_agrees_with_rdflib(path: Path) -> None:
    """Turtle and N-Triples bodies parse to the graph rdflib's own parsers give."""
    graph, main = _load(path)
    for fmt, body in (("turtle", _rdflib_turtle(graph)), ("nt", representation.ntriples(graph))):
        with _quiet():
            expected = rdflib.Graph().parse(data=body.decode("utf-8"), format=fmt,
                                            publicID=main)
            got = parse_rdf(body, fmt, base=main)
        assert same_graph(got, expected), fmt


def _rdflib_turtle(graph: rdflib.Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def test_relative_iris_resolve_against_the_base() -> None:
    """``<>`` and ``<#place>`` in a body name the resource and its fragment (RFC 3986 5.2)."""
    body = b"<> <http://purl.org/dc/terms/spatial> <#place> ."
    g = parse_rdf(body, "turtle", base="http://example.org/proposals/p1")
    assert (rdflib.URIRef("http://example.org/proposals/p1"),
            rdflib.URIRef("http://purl.org/dc/terms/spatial"),
            rdflib.URIRef("http://example.org/proposals/p1#place")) in g


@pytest.mark.parametrize(("fmt", "body"), [
    ("turtle", b"@prefix dct: <http://purl.org/dc/terms/> .\n<> dct:title \"x\" ;\n  dct:y ."),
    ("turtle", b"<> <http://purl.org/dc/terms/title> undefined:x ."),
    ("nt", b"<http://a.example/s> <http://a.example/p> \"unterminated .\n"),
])
def test_malformed_bodies_name_line_and_column(fmt: str, body: bytes) -> None:
    """A syntax error is a 400 whose detail says where (line and column)."""
    with pytest.raises(BadRequest) as caught:
        parse_rdf(body, fmt, base="http://example.org/r")
    assert "line" in caught.value.detail.lower()


def test_rdf_lists_fall_back_to_pyld() -> None:
    """A graph with an RDF list is compacted by pyld (``@list``), and still round-trips."""
    g = parse_rdf(b"<http://ex.org/a> <http://ex.org/p> (1 2) .", "turtle")
    with pytest.raises(compaction.Unsupported):
        compaction.compacted(g, "http://ex.org/a")
    doc = representation.compacted(g, "http://ex.org/a")
    assert same_graph(_back(doc), g)


def test_iri_that_looks_like_a_compact_iri_falls_back() -> None:
    """``geo:45,4`` is an IRI whose scheme is a context prefix: written by pyld instead."""
    g = rdflib.Graph()
    g.add((rdflib.URIRef("http://ex.org/a"), rdflib.URIRef("http://purl.org/dc/terms/spatial"),
           rdflib.URIRef("geo:45.76,4.83")))
    with pytest.raises(compaction.Unsupported):
        compaction.compacted(g, "http://ex.org/a")


def test_equal_graphs_give_equal_bytes() -> None:
    """Triple order does not leak into the bytes (strong ETags stay stable)."""
    graph, main = _load(EXAMPLES[0])
    reordered = rdflib.Graph()
    for triple in sorted(graph, key=lambda t: t[2].n3(), reverse=True):
        reordered.add(triple)
    for render in (compaction.compacted, compaction.expanded):
        assert json.dumps(render(graph, main)) == json.dumps(render(reordered, main))
    assert representation.turtle(graph, main) == representation.turtle(reordered, main)


@pytest.mark.skipif(not node_available(), reason="needs node and npm")
@pytest.mark.slow  # conformance judges: Node.js parsers (tests/support/fastloop.py)
def test_independent_parsers_read_our_output() -> None:
    """jsonld.js reads our compacted JSON-LD and N3.js our Turtle as the input graph."""
    sample = [_load(p) for p in EXAMPLES[::6]]
    items: list[tuple[bytes, str, str | None]] = []
    for graph, main in sample:
        items.append((representation.dump_json(compaction.compacted(graph, main)), "json-ld",
                      None))
        items.append((representation.turtle(graph, main), "turtle", None))
    parsed = parse_many(items)
    for i, (graph, _) in enumerate(sample):
        assert same_graph(parsed[2 * i], graph), "jsonld.js"
        assert same_graph(parsed[2 * i + 1], graph), "N3.js"
