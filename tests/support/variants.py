"""Deterministic broken (and unbroken) variants of an example graph, for differential tests.

``variants(graph, name)`` derives about twenty graphs from one valid example, each by
one mutation a client could plausibly make: a dropped property, a second value in a
language, a changed datatype, an out-of-range or ill-typed number, an IRI written as a
literal, an unknown concept, a wrong type on a referenced node, the focus node untyped.
The choice is seeded by ``name`` so every run tests the same graphs.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, XSD

__all__ = ["MUTATIONS", "Variant", "variants"]

DDS_BASE = "https://w3id.org/dds/"
Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class Variant:
    """One derived graph and the mutation that made it."""

    name: str
    graph: rdflib.Graph


def _literal(lexical: str, datatype: Node | None = None, lang: str | None = None) -> rdflib.Literal:
    # rdflib warns (and pytest turns warnings into errors) and logs a traceback on some
    # ill-typed lexical forms; making them on purpose is the point here.
    log = logging.getLogger("rdflib.term")
    was_disabled, log.disabled = log.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rdflib.Literal(lexical, datatype=str(datatype) if datatype else None,
                                  lang=lang)
    finally:
        log.disabled = was_disabled


def _copy(graph: rdflib.Graph) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in graph:
        g.add(t)
    return g


def _sorted(triples: Sequence[Triple]) -> list[Triple]:
    return sorted(triples, key=lambda t: (t[0].n3(), t[1].n3(), t[2].n3()))


def _focus(graph: rdflib.Graph) -> Node | None:
    """The document's main node: a typed subject no other triple points at."""
    typed = sorted({s for s in graph.subjects(RDF.type, None)}, key=lambda n: n.n3())
    objects = set(graph.objects())
    roots = [s for s in typed if s not in objects]
    return (roots or typed)[0] if typed else None


Mutation = Callable[[rdflib.Graph, random.Random, Sequence[Node]], bool]


def _replace(g: rdflib.Graph, old: Triple, new_object: Node) -> bool:
    g.remove(old)
    g.add((old[0], old[1], new_object))
    return True


def _pick(rng: random.Random, triples: Sequence[Triple]) -> Triple | None:
    return rng.choice(_sorted(triples)) if triples else None


def drop_property(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Remove every value of one (subject, predicate) other than rdf:type."""
    t = _pick(rng, [t for t in g if t[1] != RDF.type])
    if t is None:
        return False
    g.remove((t[0], t[1], None))
    return True


def duplicate_language(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Add a second text in a language a value already uses (sh:uniqueLang)."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal) and t[2].language])
    if t is None:
        return False
    assert isinstance(t[2], rdflib.Literal)
    g.add((t[0], t[1], _literal(str(t[2]) + " (bis)", lang=t[2].language)))
    return True


def change_datatype(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Keep a literal's text but give it another datatype (or drop its language)."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal)])
    if t is None:
        return False
    choices = [XSD.string, XSD.integer, XSD.date, XSD.dateTime, XSD.anyURI, XSD.decimal, None]
    return _replace(g, t, _literal(str(t[2]), datatype=rng.choice(choices)))


def out_of_range(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Put a negative, huge or fractional number where a number is."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal)
                    and isinstance(t[2].value, (int, float, Decimal))
                    and not isinstance(t[2].value, bool)])
    if t is None:
        return False
    assert isinstance(t[2], rdflib.Literal)
    lexical = rng.choice(["-1", "1000000000", "-0.5", "2.5", "0", "91", "-181"])
    datatype = t[2].datatype if rng.random() < 0.6 else rng.choice([XSD.double, XSD.integer])
    return _replace(g, t, _literal(lexical, datatype=datatype))


def ill_typed(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Replace a typed literal by an ill-typed one of the same datatype."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal) and t[2].datatype])
    if t is None:
        return False
    assert isinstance(t[2], rdflib.Literal)
    return _replace(g, t, _literal(rng.choice(["2026-13-45", "abc", "1,5"]), t[2].datatype))


def iri_to_literal(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Write an IRI value as a string literal."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.URIRef)])
    if t is None:
        return False
    return _replace(g, t, _literal(str(t[2])))


def literal_to_iri(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Write a literal value as an IRI."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal)])
    if t is None:
        return False
    return _replace(g, t, rdflib.URIRef(f"https://example.org/value/{rng.randrange(1000)}"))


def unknown_concept(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Replace a concept IRI (or any IRI value) by one no scheme defines."""
    iris = [t for t in g if isinstance(t[2], rdflib.URIRef) and t[1] != RDF.type]
    concepts = [t for t in iris if str(t[2]).startswith(DDS_BASE) and "/ns#" not in str(t[2])]
    t = _pick(rng, concepts or iris)
    if t is None:
        return False
    base = str(t[2]).rsplit("/", 1)[0]
    return _replace(g, t, rdflib.URIRef(base + "/no-such-concept"))


def blank_value(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Replace a value by an empty blank node."""
    t = _pick(rng, [t for t in g if t[1] != RDF.type])
    if t is None:
        return False
    return _replace(g, t, rdflib.BNode())


def wrong_type_on_reference(g: rdflib.Graph, rng: random.Random,
                            classes: Sequence[Node]) -> bool:
    """Type a referenced node with a class from another example."""
    refs = [t for t in g if isinstance(t[2], (rdflib.URIRef, rdflib.BNode))
            and t[1] != RDF.type]
    t = _pick(rng, refs)
    if t is None or not classes:
        return False
    g.add((t[2], RDF.type, rng.choice(list(classes))))
    return True


def retype_focus(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Remove the focus node's rdf:type, or replace it by another example's class."""
    focus = _focus(g)
    if focus is None:
        return False
    g.remove((focus, RDF.type, None))
    if classes and rng.random() < 0.5:
        g.add((focus, RDF.type, rng.choice(list(classes))))
    return True


def extra_value(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Add a second, different value to a property (sh:maxCount)."""
    t = _pick(rng, [t for t in g if t[1] != RDF.type])
    if t is None:
        return False
    o = t[2]
    if isinstance(o, rdflib.Literal):
        new: Node = _literal(str(o) + "0", o.datatype, o.language)
    else:
        new = rdflib.URIRef(str(o) + "-other") if isinstance(o, rdflib.URIRef) else rdflib.BNode()
    g.add((t[0], t[1], new))
    return True


def change_language(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Retag a text with an odd or regional language tag, or drop the tag."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal) and t[2].language])
    if t is None:
        return False
    lang = rng.choice(["xx", "de-CH", "EN", "fr-x-private", None])
    return _replace(g, t, _literal(str(t[2]), lang=lang))


def empty_text(g: rdflib.Graph, rng: random.Random, classes: Sequence[Node]) -> bool:
    """Empty a text or replace it with a very long one (sh:minLength / sh:maxLength)."""
    t = _pick(rng, [t for t in g if isinstance(t[2], rdflib.Literal)
                    and isinstance(t[2].value, str)])
    if t is None:
        return False
    assert isinstance(t[2], rdflib.Literal)
    text = rng.choice(["", " ", "x" * 5000])
    return _replace(g, t, _literal(text, t[2].datatype, t[2].language))


MUTATIONS: dict[str, Mutation] = {f.__name__: f for f in (
    drop_property, duplicate_language, change_datatype, out_of_range, ill_typed,
    iri_to_literal, literal_to_iri, unknown_concept, blank_value, wrong_type_on_reference,
    retype_focus, extra_value, change_language, empty_text)}


def variants(graph: rdflib.Graph, name: str, classes: Sequence[Node] = (),
             count: int = 20, seed: int = 2026) -> list[Variant]:
    """``count`` mutated copies of ``graph`` (every mutation first, then seeded picks)."""
    rng = random.Random(f"{seed}:{name}")
    order = list(MUTATIONS)
    order += [rng.choice(list(MUTATIONS)) for _ in range(max(0, count - len(order)))]
    found: list[Variant] = []
    for i, mutation in enumerate(order[:count]):
        g = _copy(graph)
        if MUTATIONS[mutation](g, rng, classes):
            found.append(Variant(f"{name}~{i:02d}-{mutation}", g))
    return found
