"""Turtle and N-Triples in and out through pyoxigraph, with rdflib terms at the edges.

The validator and the records take an ``rdflib.Graph``; rdflib's own Turtle parser and
serialiser are pure Python and cost milliseconds per resource, pyoxigraph's (Rust) tens
of microseconds. Converting the 20-60 triples of a resource between the two term models
is cheap, so parsing and serialising go through pyoxigraph and everything in between
stays rdflib. Literals keep the lexical form they were sent with (``"007"^^xsd:integer``,
``"5.3E0"^^xsd:double``, ``…Z`` datetimes): RDF 1.1 Concepts 3.3 makes the lexical form
part of the term, so the node stores and serves it unchanged (``ddsnode/__init__.py``
turns rdflib's literal normalisation off for every other parser too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import pyoxigraph as ox
import rdflib
from rdflib.term import Node

from ddsnode.problem import BadRequest

__all__ = ["FORMATS", "Unrepresentable", "from_ox", "graph_from_ntriples", "new_graph", "ntriples",
           "parse", "turtle"]

Triple = tuple[Node, Node, Node]
XSD_STRING = str(rdflib.XSD.string)
RDF_LANG_STRING = str(rdflib.RDF.langString)
RDF_TYPE = rdflib.RDF.type

# The rdflib parser names this module parses (others stay with rdflib).
FORMATS: dict[str, ox.RdfFormat] = {"turtle": ox.RdfFormat.TURTLE,
                                    "nt": ox.RdfFormat.N_TRIPLES}


class Unrepresentable(ValueError):
    """A term pyoxigraph refuses (an IRI or language tag rdflib let through)."""


# --- pyoxigraph -> rdflib ------------------------------------------------------------


@lru_cache(maxsize=65536)
def _iri(value: str) -> rdflib.URIRef:
    return rdflib.URIRef(value)


@lru_cache(maxsize=4096)
def _datatype(value: str) -> rdflib.URIRef | None:
    return None if value == XSD_STRING else rdflib.URIRef(value)


def from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    """An rdflib term for a pyoxigraph term, lexical form kept (``"007"^^xsd:integer``)."""
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    # normalize=False: RDF terms are stored as sent, "007" stays "007" (the lexical form
    # is data; rdflib would rewrite it to its canonical "7" by default).
    return rdflib.Literal(term.value, datatype=_datatype(term.datatype.value), normalize=False)


def new_graph() -> rdflib.Graph:
    """An empty graph for one resource's triples.

    rdflib's SimpleMemory store keeps no per-triple context bookkeeping, which a single
    resource never needs: adding and matching triples take under half the time of the
    default Memory store, and parsing a request body is on every write's path."""
    return rdflib.Graph(store="SimpleMemory")


def parse(data: bytes | str, fmt: str, base: str | None = None) -> rdflib.Graph:
    """Parse Turtle or N-Triples into a graph; BadRequest with line and column on bad syntax."""
    graph = new_graph()
    try:
        # Blank node labels are scoped to this document (pyoxigraph makes them unique).
        quads = ox.parse(data, format=FORMATS[fmt], base_iri=base, without_named_graphs=True)
        for quad in quads:
            graph.add((from_ox(quad.subject), from_ox(quad.predicate),
                       from_ox(quad.object)))
    except SyntaxError as e:  # the message names line and column
        raise BadRequest(f"Invalid {fmt}: {str(e.msg)[:300]}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(f"Invalid {fmt}: {str(e)[:300]}") from None
    return graph


def graph_from_ntriples(text: str) -> rdflib.Graph:
    """A stored resource's N-Triples as a graph, empty for empty text (rdflib's parser for
    what pyoxigraph refuses)."""
    try:
        return parse(text, "nt")
    except BadRequest:
        return rdflib.Graph().parse(data=text, format="nt")


# --- N-Triples out -------------------------------------------------------------------


def _literal(o: rdflib.Literal) -> str:
    # The escapes rdflib's N-Triples serialiser makes, so stored bytes stay as they were.
    text = '"' + str(o).replace("\\", "\\\\").replace("\n", "\\n").replace(
        '"', '\\"').replace("\r", "\\r") + '"'
    if o.language:
        return f"{text}@{o.language}"
    if o.datatype is not None:
        return f"{text}^^<{o.datatype}>"
    return text


def ntriples(triples: Iterable[Triple]) -> bytes:
    """N-Triples, one triple a line, sorted (equal graphs without blank nodes: equal bytes);
    IRIs are checked as rdflib checks them (``n3()`` refuses what is not an IRI)."""
    lines = sorted(f"{s.n3()} {p.n3()} "
                   f"{_literal(o) if isinstance(o, rdflib.Literal) else o.n3()} ."
                   for s, p, o in triples)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


# --- rdflib -> pyoxigraph ------------------------------------------------------------


@lru_cache(maxsize=65536)
def _ox_iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    try:
        if isinstance(term, rdflib.URIRef):
            return _ox_iri(str(term))
        if isinstance(term, rdflib.BNode):
            return ox.BlankNode(str(term))
        if isinstance(term, rdflib.Literal):
            if term.language:
                return ox.Literal(str(term), language=term.language)
            if term.datatype is not None:
                return ox.Literal(str(term), datatype=_ox_iri(str(term.datatype)))
            return ox.Literal(str(term))
    except ValueError as e:
        raise Unrepresentable(str(e)) from None
    raise Unrepresentable(f"not an RDF term: {term!r}")


OrderKey = tuple[bool, bool, str, bool, str, bool, str, str]


def _order(main: str | None) -> Callable[[Triple], OrderKey]:
    def key(triple: Triple) -> OrderKey:
        s, p, o = triple
        # Not o.n3(): rdflib warns while writing some ill-typed numbers.
        detail = (o.language or str(o.datatype or "")) if isinstance(o, rdflib.Literal) else ""
        return (str(s) != main, isinstance(s, rdflib.BNode), str(s), p != RDF_TYPE, str(p),
                isinstance(o, rdflib.Literal), str(o), detail)
    return key


def turtle(triples: Iterable[Triple], prefixes: dict[str, str], main: str | None = None
           ) -> bytes:
    """Turtle, subjects grouped (``main`` first), with those of ``prefixes`` that are used;
    Unrepresentable when a term is not valid RDF for pyoxigraph."""
    ordered = sorted(triples, key=_order(main))
    used: set[str] = set()
    out = []
    for s, p, o in ordered:
        out.append(ox.Triple(_to_ox(s), _to_ox(p), _to_ox(o)))  # type: ignore[arg-type]
        used.update(str(t) for t in (s, p, o) if isinstance(t, rdflib.URIRef))
        if isinstance(o, rdflib.Literal) and o.datatype is not None:
            used.add(str(o.datatype))
    chosen = {name: ns for name, ns in prefixes.items() if any(u.startswith(ns) for u in used)}
    return ox.serialize(out, format=ox.RdfFormat.TURTLE, prefixes=chosen) or b""
