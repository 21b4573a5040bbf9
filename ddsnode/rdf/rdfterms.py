"""Is it RDF 1.1? The check every triple passes before it reaches a store.

A triple is stored only if each of its terms is a term of RDF 1.1 Concepts (section 3):

* an IRI is absolute and a valid RFC 3987 IRI: no space, control character or any of
  ``<>"{}|^`\\`` (N-Triples ``IRIREF``), percent-escapes of two hex digits, a scheme;
* a blank node label is an N-Triples ``BLANK_NODE_LABEL``;
* a literal's lexical form is a Unicode string (no lone surrogate, which no UTF-8
  encoder can write); its language tag is well-formed BCP 47 (RFC 5646 2.1: ``en_US``
  is not, nor a subtag longer than 8 characters); its datatype is a valid IRI;
* a subject is an IRI or a blank node, a predicate an IRI (RDF 1.1 Concepts 3.1); N3
  formulas, variables and other rdflib-only nodes are not RDF terms at all.

The authority for IRIs, blank node labels and language tags is pyoxigraph — the derived
SPARQL index (``ddsnode.store.index``) parses the stored N-Triples with it, so a term it
accepts here is a term the index takes. Terms already seen valid are remembered in
bounded sets: a 20-triple resource costs a few microseconds once its vocabulary is warm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
import rdflib

from ddsnode.problem import BadRequest

__all__ = ["InvalidTerm", "check_graph", "check_iri", "check_ntriples", "check_triple", "check_triples"]

#: Entries remembered per kind of term before a set is cleared (bounded memory).
MAX_REMEMBERED = 100_000

_IRIS: set[str] = set()
_LANGS: set[str] = set()
_BNODES: set[str] = set()
_MAX_SHOWN = 200  # characters of an offending term quoted back to the client


class InvalidTerm(BadRequest):
    """A term of the document is not valid RDF 1.1; ``extra['term']`` names it."""

    slug, title = "invalid-rdf-term", "The data contains a term that is not valid RDF 1.1"

    def __init__(self, detail: str, *, term: str, position: str, where: str = "") -> None:
        super().__init__(detail, extra={"term": term, "position": position,
                                        **({"where": where} if where else {})})


def _remember(seen: set[str], value: str) -> None:
    if len(seen) >= MAX_REMEMBERED:
        seen.clear()
    seen.add(value)


def _shown(value: str) -> str:
    # repr() makes control characters, surrogates and spaces visible in the message.
    text = repr(value[:_MAX_SHOWN])[1:-1]
    return text + ("…" if len(value) > _MAX_SHOWN else "")


def _fail(what: str, value: str, reason: str, position: str, where: str) -> InvalidTerm:
    place = f" ({where})" if where else ""
    return InvalidTerm(f"Not valid RDF 1.1{place}: the {position} {what} <{_shown(value)}> "
                       f"is refused: {reason}", term=value[:_MAX_SHOWN], position=position,
                       where=where)


def _check_iri(value: str, position: str, where: str) -> None:
    if value in _IRIS:
        return
    try:
        ox.NamedNode(value)  # RFC 3987 absolute IRI (oxiri), as the index parses it
    except ValueError as e:
        raise _fail("IRI", value, str(e), position, where) from None
    _remember(_IRIS, value)


def _check_bnode(value: str, position: str, where: str) -> None:
    if value in _BNODES:
        return
    try:
        ox.BlankNode(value)  # N-Triples BLANK_NODE_LABEL
    except ValueError as e:
        raise _fail("blank node", value, str(e), position, where) from None
    _remember(_BNODES, value)


def _check_literal(term: rdflib.Literal, position: str, where: str) -> None:
    text = str(term)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail("literal", text, "it contains a lone surrogate, not a Unicode "
                        "scalar value (RDF 1.1 Concepts 3.3)", position, where) from None
    if term.language is not None:
        lang = str(term.language)
        if lang not in _LANGS:
            try:
                ox.Literal("", language=lang)  # BCP 47 well-formed (oxilangtag)
            except ValueError as e:
                raise _fail("language tag", lang, f"{e} (BCP 47, RFC 5646 2.1)",
                            position, where) from None
            _remember(_LANGS, lang)
    elif term.datatype is not None:
        _check_iri(str(term.datatype), f"{position} datatype", where)


def _check_term(term: Any, position: str, where: str) -> None:
    # Graph first: rdflib's QuotedGraph (an N3 formula) is not a Node subclass we accept.
    if isinstance(term, rdflib.Graph):
        raise _fail("N3 formula", str(term.identifier), "formulas are not RDF 1.1 terms",
                    position, where)
    if isinstance(term, rdflib.URIRef):
        _check_iri(str(term), position, where)
    elif isinstance(term, rdflib.BNode):
        if position == "predicate":
            raise _fail("blank node", str(term), "a predicate is an IRI (RDF 1.1 Concepts "
                        "3.1)", position, where)
        _check_bnode(str(term), position, where)
    elif isinstance(term, rdflib.Literal):
        if position != "object":
            raise _fail("literal", str(term), f"a {position} is an IRI"
                        f"{' or a blank node' if position == 'subject' else ''} "
                        "(RDF 1.1 Concepts 3.1)", position, where)
        _check_literal(term, position, where)
    else:
        raise _fail(type(term).__name__, str(term), "not an RDF 1.1 term", position, where)


def check_iri(value: str, *, where: str = "") -> None:
    """InvalidTerm (400) unless ``value`` is an absolute RFC 3987 IRI (e.g. a resource's)."""
    _check_iri(value, "resource", where)


def check_triple(triple: tuple[Any, Any, Any], *, where: str = "") -> None:
    """InvalidTerm (400) naming the first term of ``triple`` that is not RDF 1.1."""
    s, p, o = triple
    # Fast paths: an IRI already seen valid (URIRef is a str, so it is its own key) and a
    # plain ASCII literal cost one type test and one set lookup each.
    if not (type(s) is rdflib.URIRef and s in _IRIS):
        _check_term(s, "subject", where)
    if not (type(p) is rdflib.URIRef and p in _IRIS):
        _check_term(p, "predicate", where)
    if type(o) is rdflib.URIRef and o in _IRIS:
        return
    if type(o) is rdflib.Literal and o.isascii():
        lang, datatype = o.language, o.datatype
        if (lang in _LANGS) if lang is not None else (datatype is None or datatype in _IRIS):
            return
    _check_term(o, "object", where)


def check_triples(triples: Iterable[tuple[Any, Any, Any]], *, where: str = "") -> None:
    """InvalidTerm (400) naming the first term of ``triples`` that is not RDF 1.1."""
    for triple in triples:
        check_triple(triple, where=where)


def check_graph(graph: rdflib.Graph, *, where: str = "") -> None:
    """InvalidTerm (400) naming the first term of ``graph`` that is not RDF 1.1.

    ``where`` says where the data came from (a peer's URL, an import row) for the message.
    """
    check_triples(graph.triples((None, None, None)), where=where)


def check_ntriples(text: str, *, where: str = "") -> None:
    """InvalidTerm (400) unless the SPARQL index can parse ``text`` as N-Triples.

    The stores call this on every record before committing it: the derived index
    (``ddsnode.store.index``) parses the stored N-Triples with pyoxigraph, so a record
    that passes here never fails there — a write the index cannot take is never
    acknowledged, whatever path built it.
    """
    if not text:
        return
    try:
        for _ in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES):
            pass
    except UnicodeEncodeError:
        raise InvalidTerm(f"Not valid RDF 1.1{f' ({where})' if where else ''}: the data "
                          "contains a lone surrogate", term="", position="literal",
                          where=where) from None
    except (SyntaxError, ValueError) as e:
        raise InvalidTerm(f"Not valid RDF 1.1{f' ({where})' if where else ''}: {e}",
                          term=str(e)[:_MAX_SHOWN], position="N-Triples", where=where) from None
