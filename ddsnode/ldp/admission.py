"""Admission of a document into a shaped container: authority, type, then the shapes.

* Authority: a node publishes only what is under its own IRIs. The main resource of a
  document is the subject equal to the target IRI; every other subject must be a hash
  IRI of it (``<iri>#phase-1``) or a blank node. Anything else is refused (422), so a
  peer that dereferences an IRI on this node gets only statements this node may make.
* Type: the main resource's ``rdf:type`` must be one the container accepts.
* Shapes: the graph is validated (``ddsnode.validation``); a violation is a 422
  ``ValidationFailed`` carrying the SHACL report as JSON-LD and one message per result.
"""

from __future__ import annotations

import logging
from typing import Any

import rdflib
from pyld import jsonld as pyld

from ddsnode.ldp.containers import Container
from ddsnode.ldp.html import short
from ddsnode.ldp.representation import expanded
from ddsnode.problem import Unprocessable, ValidationFailed
from ddsnode.rdf.vocab import RDF, SH
from ddsnode.resources import CONTEXT_IRI

log = logging.getLogger(__name__)
MAX_LISTED = 5
_REPORT_CONTEXT = {"sh": str(SH), "xsd": "http://www.w3.org/2001/XMLSchema#"}


class ForeignSubject(Unprocessable):
    """A document makes statements about IRIs that are not the target or its fragments."""

    slug, title = "foreign-subject", "The document describes resources this IRI does not own"


class WrongType(Unprocessable):
    """The main resource's type is not one the container accepts."""

    slug, title = "wrong-type", "This container does not hold resources of this type"


def check_subjects(graph: rdflib.Graph, iri: str, *, outside: str | None = None) -> None:
    """ForeignSubject (422) unless every subject of ``graph`` is ``iri``, one of its
    fragments or a blank node: a document speaks only of itself (issue 9 item 13).

    With ``outside`` (the node's base, for open containers), subjects that are not on this
    node are allowed too: a Solid pod holds documents about any IRI (the Solid CRUD suite
    stores one about ``http://store.example.com/``), but no document may speak for another
    resource of this node."""
    main = rdflib.URIRef(iri)
    foreign = sorted({str(s) for s in graph.subjects()
                      if isinstance(s, rdflib.URIRef) and s != main
                      and not str(s).startswith(iri + "#")
                      and (outside is None or str(s).startswith(outside))})
    if foreign:
        listed = ", ".join(f"<{s}>" for s in foreign[:MAX_LISTED])
        raise ForeignSubject(
            f"A document at <{iri}> may describe only <{iri}>, its fragments (<{iri}#…>) and "
            f"blank nodes; it also describes {listed}. Publish each resource at its own IRI.",
            extra={"subjects": foreign[:50]})


def check_document(graph: rdflib.Graph, iri: str, container: Container) -> None:
    """Unprocessable unless ``graph`` describes ``iri`` (and fragments) with an accepted type."""
    main = rdflib.URIRef(iri)
    check_subjects(graph, iri)
    if not graph:
        # Nothing parsed: an empty body (JSON-LD without "@context" is refused earlier,
        # by jsonld.parse_document, naming the keys it could not understand).
        raise Unprocessable(
            "The document holds no statements: the body is empty (or only comments and "
            f"prefixes). Send the triples that describe <{iri}>, e.g. in JSON-LD with "
            f'"@context": "{CONTEXT_IRI}", "id": "".')
    if not any(graph.triples((main, None, None))):
        raise Unprocessable(
            f"The document says nothing about <{iri}>. Name the main resource with the request "
            'IRI, or with a relative IRI ("id": "" in JSON-LD, <> in Turtle).')
    types = set(graph.objects(main, RDF.type))
    if not container.accepts_type(types):
        accepted = ", ".join(short(str(c)) for c in container.classes)
        given = ", ".join(short(str(t)) for t in sorted(types, key=str)) or "no rdf:type"
        raise WrongType(f"{container.path} holds {accepted}; this resource has {given}",
                        extra={"accepted": [str(c) for c in container.classes]})


def _validate(graph: rdflib.Graph, engine: str) -> Any:
    from ddsnode.validation import validate
    try:
        return validate(graph, engine=engine)
    except ImportError:
        # The fast engine is optional while it is being written; the reference one is not.
        log.warning("validation engine %r unavailable; using pyshacl", engine)
        return validate(graph, engine="pyshacl")


def _node(term: Any) -> str | None:
    if term is None:
        return None
    return f"_:{term}" if isinstance(term, rdflib.BNode) else str(term)


def validation_problem(graph: rdflib.Graph, engine: str) -> ValidationFailed | None:
    """None if ``graph`` conforms to the shapes, else the 422 problem to answer with."""
    report = _validate(graph, engine)
    if report.conforms:
        return None
    report_doc = pyld.compact(expanded(report.to_graph()), {"@context": _REPORT_CONTEXT})
    errors = [{"focusNode": _node(r.focus), "path": _node(r.path), "value": _node(r.value),
               "severity": str(r.severity).rsplit("#", 1)[-1],
               "sourceShape": _node(r.source_shape),
               "constraint": str(r.constraint).rsplit("#", 1)[-1],
               "message": r.message(), "rule": r.rule()}
              for r in report.results]
    count = len(report.violations)
    first = next((e["message"] for e in errors if e["severity"] == "Violation"), "")
    return ValidationFailed(
        f"{count} violation{'s' if count != 1 else ''} of the shapes; first: {first}",
        extra={"errors": errors, "report": report_doc})
