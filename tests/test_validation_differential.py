"""The fast engine and pyshacl agree: same conformance, same multiset of ShapeResult.key().

Run over (a) every ``examples/*.jsonld``, (b) every ``examples/invalid/*.jsonld``, (c)
about twenty seeded variants of each valid example (``tests/support/variants.py``), all
against the real ``shapes/*.ttl``, and (d) hand-written shapes and data below, so the
comparison means something even before the bundled shapes cover every component.

Where pyshacl departs from SHACL 1.0 the fast engine follows the specification (see
``ddsnode/validation/fast.py``); :func:`_spec_divergence` names the one such case these
inputs can reach, and a difference is tolerated only when it is exactly that case.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest
import rdflib

from ddsnode import resources
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import RDF, SH
from ddsnode.validation import validate
from ddsnode.validation.fast import UnsupportedShape, compiled, validate_fast
from ddsnode.validation.fast_constraints import comparable_key
from ddsnode.validation.reference import validate_pyshacl
from ddsnode.validation.report import ShapeReport, ShapeResult
from ddsnode.validation.shapes import shapes_graph
from tests.support.sampling import sampled
from tests.support.variants import variants

_RANGE = {SH.MinInclusiveConstraintComponent: SH.minInclusive,
          SH.MinExclusiveConstraintComponent: SH.minExclusive,
          SH.MaxInclusiveConstraintComponent: SH.maxInclusive,
          SH.MaxExclusiveConstraintComponent: SH.maxExclusive}


def _spec_divergence(result: ShapeResult, shapes: rdflib.Graph) -> bool:
    """A fast-only range result on a value SPARQL cannot order against the bound.

    SHACL 4.3 evaluates ``$bound <= v`` as SPARQL does: incomparable is not true, so it is
    a violation. pyshacl 0.40 orders such pairs with rdflib and may let them pass.
    """
    parameter = _RANGE.get(result.constraint)
    if parameter is None or result.value is None:
        return False
    bound = shapes.value(result.source_shape, parameter)
    key, bound_key = comparable_key(result.value), comparable_key(bound) if bound else None
    return key is None or bound_key is None or key[0] != bound_key[0]


def _both(graph: rdflib.Graph, shapes: rdflib.Graph | None = None) -> tuple[
        ShapeReport, ShapeReport]:
    with warnings.catch_warnings():
        # pyshacl warns on some inputs (e.g. recursion); the comparison is the test here.
        warnings.simplefilter("ignore")
        reference = validate_pyshacl(graph, shapes=shapes)
    return validate_fast(graph, shapes), reference


def assert_same(graph: rdflib.Graph, shapes: rdflib.Graph | None = None) -> ShapeReport:
    """Both engines agree on ``graph`` (up to the documented spec divergence)."""
    shapes_used = shapes if shapes is not None else shapes_graph()
    fast, reference = _both(graph, shapes)
    fast_keys = Counter(r.key() for r in fast.results)
    ref_keys = Counter(r.key() for r in reference.results)
    if fast_keys != ref_keys:
        extra = fast_keys - ref_keys
        tolerated = Counter(r.key() for r in fast.results
                            if r.key() in extra and _spec_divergence(r, shapes_used))
        missing = ref_keys - fast_keys
        assert not missing, f"pyshacl only: {sorted(missing)}"
        assert extra - tolerated == Counter(), f"fast only: {sorted(extra - tolerated)}"
        return fast
    assert fast.conforms == reference.conforms
    return fast


def _load(path: Path) -> rdflib.Graph:
    with warnings.catch_warnings():
        # rdflib 7.6's N-Quads parser (behind parse_rdf) warns about its own
        # Dataset.default_context; not what this test is about.
        warnings.simplefilter("ignore", DeprecationWarning)
        return parse_rdf(path.read_bytes(), "json-ld")


EXAMPLES = sorted(resources.examples_dir().glob("*.jsonld"))
INVALID = sorted((resources.examples_dir() / "invalid").glob("*.jsonld"))


def _classes() -> list[rdflib.term.Node]:
    found: set[rdflib.term.Node] = set()
    for path in EXAMPLES:
        found.update(_load(path).objects(None, RDF.type))
    return sorted(found, key=str)


def _variant_params() -> list[tuple[str, rdflib.Graph]]:
    classes = _classes()
    params = []
    for path in EXAMPLES:
        for v in variants(_load(path), path.stem, classes):
            params.append((v.name, v.graph))
    return params


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_valid_examples(path: Path) -> None:
    """Both engines agree on every valid example."""
    assert_same(_load(path))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_examples(path: Path) -> None:
    """Both engines agree on every invalid example."""
    assert_same(_load(path))


VARIANTS = _variant_params()


@pytest.mark.parametrize("graph", sampled([g for _, g in VARIANTS], [n for n, _ in VARIANTS]))
def test_variants(graph: rdflib.Graph) -> None:
    """Both engines agree on every generated variant."""
    assert_same(graph)


def test_variants_are_deterministic() -> None:
    """The same example gives the same variants on every run."""
    if not EXAMPLES:
        pytest.skip("no examples yet")
    g = _load(EXAMPLES[0])
    def shape(v: rdflib.Graph) -> list[tuple[str, ...]]:
        return sorted(tuple("_" if isinstance(n, rdflib.BNode) else n.n3() for n in t)
                      for t in v)
    first = [(v.name, shape(v.graph)) for v in variants(g, "x", _classes())]
    again = [(v.name, shape(v.graph)) for v in variants(g, "x", _classes())]
    assert first == again and len(first) >= 14


# -- hand-written shapes and data ----------------------------------------------------

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <http://example.org/> .

ex:PersonShape a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:property ex:nameShape , [
    sh:path ex:age ; sh:maxCount 1 ; sh:datatype xsd:integer ;
    sh:minInclusive 0 ; sh:maxExclusive 150 ] , [
    sh:path ex:email ; sh:nodeKind sh:IRI ; sh:pattern "^mailto:" ; sh:flags "i" ] , [
    sh:path ex:bio ; sh:languageIn ( "en" "fr" ) ; sh:uniqueLang true ;
    sh:maxLength 40 ; sh:severity sh:Warning ; sh:message "Bio: en or fr, short"@en ] , [
    sh:path ex:knows ; sh:class ex:Person ; sh:node ex:NamedShape ] , [
    sh:path ex:status ; sh:in ( ex:active ex:retired ) ; sh:minCount 1 ] , [
    sh:path [ sh:inversePath ex:member ] ; sh:class ex:Group ; sh:maxCount 2 ] , [
    sh:path ex:born ; sh:datatype xsd:date ; sh:maxInclusive "2026-01-01"^^xsd:date ] , [
    sh:path ex:code ; sh:or ( [ sh:datatype xsd:string ; sh:minLength 3 ]
                              [ sh:datatype xsd:integer ] ) ] , [
    sh:path ex:tag ; sh:xone ( [ sh:hasValue ex:a ] [ sh:nodeKind sh:IRI ] ) ] , [
    sh:path ex:mood ; sh:not [ sh:hasValue ex:grumpy ] ;
    sh:and ( [ sh:nodeKind sh:IRI ] [ sh:pattern "mood" ] ) ] , [
    sh:path ex:off ; sh:minCount 5 ; sh:deactivated true ] , [
    sh:path ex:kind ; sh:hasValue ex:human ; sh:severity sh:Info ] .

ex:nameShape a sh:PropertyShape ;
  sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ; sh:minLength 2 ;
  sh:message "A name of two characters or more"@en, "Un nom"@fr .

ex:NamedShape a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
"""

DATA = {
    "valid": """
ex:alice a ex:Person ; ex:name "Alice" ; ex:age 30 ; ex:status ex:active ;
  ex:email <mailto:alice@example.org> ; ex:bio "Hi"@en, "Salut"@fr ; ex:knows ex:bob ;
  ex:born "1990-05-01"^^xsd:date ; ex:code "abc" ; ex:tag ex:b ; ex:mood ex:happy-mood ;
  ex:kind ex:human .
ex:bob a ex:Person ; ex:name "Bob" ; ex:status ex:retired ; ex:kind ex:human .
ex:g1 a ex:Group ; ex:member ex:alice .
""",
    "subclass-target-and-class": """
ex:Student rdfs:subClassOf ex:Person . ex:PhD rdfs:subClassOf ex:Student .
ex:carol a ex:PhD ; ex:knows ex:dave ; ex:status ex:active .
ex:dave a ex:Student ; ex:name "D" ; ex:status ex:gone .
""",
    "everything-wrong": """
ex:eve a ex:Person ; ex:name 42, "E" ; ex:age "abc"^^xsd:integer, -3, 200 ;
  ex:email "mailto:eve@example.org", <MAILTO:eve@example.org>, <http://eve> ;
  ex:bio "Hallo"@de, "One"@en, "Two"@EN, "This biography is certainly too long to pass"@fr ;
  ex:knows ex:nobody, "Bob", ex:frank ; ex:status ex:active, ex:sleeping ;
  ex:born "2030-01-01"^^xsd:date, "2026-13-45"^^xsd:date, "2020-01-01T00:00:00"^^xsd:dateTime ;
  ex:code "ab", 12, 1.5 ; ex:tag ex:a, "lit", _:b1 ; ex:mood ex:grumpy, ex:other, "mood" ;
  ex:kind ex:robot .
ex:frank a ex:Person .
ex:g1 a ex:Group ; ex:member ex:eve . ex:g2 a ex:Group ; ex:member ex:eve .
ex:x ex:member ex:eve .
""",
    "ranges-incomparable": """
ex:zed a ex:Person ; ex:name "Zed" ; ex:status ex:active ; ex:age "30"^^xsd:string .
""",
    "no-targets": """
ex:thing ex:name "nobody is a Person here" .
""",
}
EXTRA_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <http://example.org/> .

ex:EventShape a sh:NodeShape ;
  sh:targetClass ex:Event ;
  sh:closed true ; sh:ignoredProperties ( rdf:type ) ;
  sh:property [ sh:path ex:start ; sh:lessThan ex:end ; sh:maxCount 1 ] ,
    [ sh:path ex:end ; sh:lessThanOrEquals ex:deadline ] ,
    [ sh:path ex:deadline ] ,
    [ sh:path ex:label ; sh:equals ex:title ] , [ sh:path ex:title ] ,
    [ sh:path ex:organiser ; sh:disjoint ex:guest ] , [ sh:path ex:guest ] ,
    [ sh:path ( ex:organiser ex:name ) ; sh:minCount 1 ; sh:datatype xsd:string ] ,
    [ sh:path [ sh:alternativePath ( ex:title ex:label ) ] ; sh:maxCount 2 ] ,
    [ sh:path [ sh:zeroOrMorePath ex:partOf ] ; sh:maxCount 3 ] ,
    [ sh:path ex:partOf ; sh:qualifiedValueShape [ sh:class ex:Event ] ;
      sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ] .
"""

EXTRA_DATA = {
    "extra-valid": """
ex:e1 a ex:Event ; ex:start 1 ; ex:end 2 ; ex:deadline 2 ; ex:label "A" ; ex:title "A" ;
  ex:organiser ex:o ; ex:guest ex:g ; ex:partOf ex:e0 .
ex:e0 a ex:Event ; ex:organiser ex:o ; ex:partOf ex:e1 .
ex:o ex:name "Org" .
""",
    "extra-invalid": """
ex:e1 a ex:Event ; ex:start 3, 1 ; ex:end 2, "x" ; ex:deadline 1 ; ex:label "A" ;
  ex:title "B" ; ex:organiser ex:o, ex:p ; ex:guest ex:o ; ex:partOf ex:e0, ex:e2 ;
  ex:colour "red" .
ex:e0 a ex:Event ; ex:partOf ex:e2 . ex:e2 a ex:Event ; ex:partOf ex:e3 .
ex:o ex:name 5 .
""",
}

PREFIXES = """@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


@pytest.fixture(scope="module")
def handwritten_shapes() -> rdflib.Graph:
    """The hand-written shapes graph above."""
    return rdflib.Graph().parse(data=SHAPES, format="turtle")


@pytest.mark.parametrize("name", sorted(DATA))
def test_handwritten(name: str, handwritten_shapes: rdflib.Graph) -> None:
    """Both engines agree on the hand-written data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = rdflib.Graph().parse(data=PREFIXES + DATA[name], format="turtle")
    report = assert_same(graph, handwritten_shapes)
    assert report.conforms == (name in ("valid", "no-targets"))


@pytest.mark.parametrize("name", sorted(EXTRA_DATA))
def test_handwritten_extra(name: str) -> None:
    """Both engines agree on property pairs, sh:closed, complex paths, qualified shapes."""
    shapes = rdflib.Graph().parse(data=EXTRA_SHAPES, format="turtle")
    graph = rdflib.Graph().parse(data=PREFIXES + EXTRA_DATA[name], format="turtle")
    assert assert_same(graph, shapes).conforms == (name == "extra-valid")


def test_handwritten_results_carry_messages(handwritten_shapes: rdflib.Graph) -> None:
    """sh:message reaches ShapeResult.messages, keyed by language ("" when untagged)."""
    graph = rdflib.Graph().parse(data=PREFIXES + DATA["everything-wrong"], format="turtle")
    report = validate_fast(graph, handwritten_shapes)
    names = [r for r in report.results if str(r.path) == "http://example.org/name"]
    assert names and all(r.messages == {"en": "A name of two characters or more",
                                        "fr": "Un nom"} for r in names)
    assert {r.severity for r in report.results} == {SH.Violation, SH.Warning, SH.Info}


# -- what the fast engine refuses -----------------------------------------------------

REFUSED = {
    "sparql": "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
              "sh:sparql [ sh:select \"SELECT $this {}\" ] .",
    "custom-target": "ex:S a sh:NodeShape ; sh:target [ a ex:MyTarget ] .",
    "unknown-term": "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:frobnicate true .",
    "recursive": "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
                 "sh:property [ sh:path ex:p ; sh:node ex:S ] .",
    "inverse-of-sequence": "ex:S sh:targetNode ex:a ; sh:path [ sh:inversePath ( ex:p ex:q ) ] .",
    "count-on-node-shape": "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:minCount 1 .",
    "bad-regex": "ex:S sh:targetNode ex:a ; sh:path ex:p ; sh:pattern \"(\" .",
    "unordered-bound": "ex:S sh:targetNode ex:a ; sh:path ex:p ; sh:maxInclusive \"x\"@en .",
    "unknown-node-kind": "ex:S sh:targetNode ex:a ; sh:path ex:p ; sh:nodeKind ex:Thing .",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_shapes_are_refused(name: str) -> None:
    """Shapes outside the compiled subset raise UnsupportedShape, never a shorter report."""
    shapes = rdflib.Graph().parse(data=PREFIXES + "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                                  + REFUSED[name], format="turtle")
    with pytest.raises(UnsupportedShape):
        validate_fast(rdflib.Graph(), shapes)


def test_compiled_once_per_shapes_graph(handwritten_shapes: rdflib.Graph) -> None:
    """The compiled form is cached per graph and rebuilt when the graph changes."""
    first = compiled(handwritten_shapes)
    assert compiled(handwritten_shapes) is first
    handwritten_shapes.add((rdflib.URIRef("http://example.org/x"), RDF.type, SH.NodeShape))
    assert compiled(handwritten_shapes) is not first


def test_engine_switch_uses_fast_engine() -> None:
    """validate(graph) runs the fast engine on the bundled shapes."""
    if not EXAMPLES:
        pytest.skip("no examples yet")
    graph = _load(EXAMPLES[0])
    assert validate(graph).results == validate_fast(graph).results
