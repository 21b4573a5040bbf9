"""Names people read for vocabulary IRIs: classes, properties and SKOS concepts.

They come from the ontology (``rdfs:label``, ``skos:prefLabel``, loaded from
``ontology/``), in the reader's language when the ontology has it, else English, else any.
Platform topics and other resources are named by the search index's ``labels`` table.
"""

from __future__ import annotations

import re
from functools import cache

import rdflib

from ddsnode.rdf.vocab import RDFS, SKOS, ontology_graph

FALLBACK = ("en", "fr", "")


@cache
def vocabulary_labels() -> dict[str, dict[str, str]]:
    """IRI -> {language: label} for every labelled term of the ontology and its schemes."""
    out: dict[str, dict[str, str]] = {}
    graph = ontology_graph()
    for predicate in (SKOS.prefLabel, RDFS.label):
        for subject, label in graph.subject_objects(predicate):
            if isinstance(subject, rdflib.URIRef) and isinstance(label, rdflib.Literal):
                out.setdefault(str(subject), {}).setdefault(label.language or "", str(label))
    return out


def pick(labels: dict[str, str] | None, lang: str) -> str | None:
    """The label in ``lang``, else in a fallback language, else any; None if none."""
    if not labels:
        return None
    for choice in (lang, *FALLBACK):
        if choice in labels:
            return labels[choice]
    return next(iter(labels.values()))


def local_name(iri: str) -> str:
    """The last segment of ``iri`` (after ``#`` or ``/``), for IRIs nothing names."""
    tail = iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return tail or iri


def vocabulary_label(iri: str, lang: str) -> str:
    """The ontology's label of ``iri`` in ``lang`` (or its local name)."""
    return pick(vocabulary_labels().get(iri), lang) or local_name(iri)


def heading(text: str) -> str:
    """``text`` as the label of a row or a heading: an identifier-like label (``roleName``,
    ``NonRDFSource``, as some vocabularies write them) as words, and the first letter
    capitalised. RDF vocabularies label properties in lower case ("answered by", "dans
    la phase") for use inside sentences; a label that starts a row starts with a capital,
    as the language writes it (``str.upper`` of the first letter only: "état" -> "État",
    "d'autres" keeps its apostrophe)."""
    if text and " " not in text and re.search(r"[a-z][A-Z]|^[A-Z]{2,}[a-z]", text):
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
        text = " ".join(w if w.isupper() else w.lower() for w in text.split())
    return text[:1].upper() + text[1:]


def term_label(iri: str, lang: str) -> str:
    """The label a page shows for class or property ``iri``: the ontology's in ``lang``
    (``ontology/*.ttl``, Catalan and Spanish in ``labels-ca-es.ttl``), else its fallback,
    else its local name as words; capitalised (:func:`heading`)."""
    return heading(pick(vocabulary_labels().get(iri), lang) or local_name(iri))
