"""What the search index keeps of one resource: a :class:`Doc`, taken from its graph.

The filter fields are the store's own (:func:`ddsnode.ldp.indexing.index_fields`), so a
search facet and a container filter agree; what the store does not keep per language —
titles, texts and the languages present — is read here from the literals' language tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib

from ddsnode.ldp.indexing import index_fields
from ddsnode.rdf.vocab import DCTERMS, DDS, FOAF, RDFS, SCHEMA, SKOS

SUMMARY_CHARS = 280  # of a body, shown under a result


def _label_predicates() -> tuple[rdflib.URIRef, ...]:
    # A participant is shown by its pseudonym (foaf:nick), never by anything else.
    return (DCTERMS.title, FOAF.name, SKOS.prefLabel, SCHEMA.name, RDFS.label, FOAF.nick)


@dataclass
class Doc:
    """One searchable resource: where it lives, its facets, and its words per language."""

    iri: str
    node: str  # the node that holds it: this node's base, or the peer origin
    kind: str  # the main rdf:type IRI ('' when untyped)
    titles: dict[str, str]  # language ('' untagged) -> title
    summaries: dict[str, str]
    date: str | None
    modified: str
    lat: float | None
    long: float | None
    facets: list[tuple[str, str]]  # (facet, value)
    texts: list[tuple[str | None, str]]  # (language, text) to index
    labels: list[tuple[str, str, str]] = field(default_factory=list)  # (iri, lang, label)
    links: list[tuple[str, str]] = field(default_factory=list)  # (predicate, object IRI)


def _main_type(types: tuple[str, ...]) -> str:
    ours = [t for t in types if t.startswith(str(DDS))]
    return (ours or list(types) or [""])[0]


def _literal_map(graph: rdflib.Graph, subject: rdflib.URIRef,
                 predicates: tuple[rdflib.URIRef, ...], limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for predicate in predicates:
        for value in sorted(graph.objects(subject, predicate), key=str):
            if isinstance(value, rdflib.Literal) and (value.datatype is None or value.language):
                text = " ".join(str(value).split())
                out.setdefault(value.language or "", text[:limit])
        if out:
            return out
    return out


def labels(graph: rdflib.Graph) -> list[tuple[str, str, str]]:
    """(subject IRI, language, label) of every named subject of ``graph`` with a label."""
    out = []
    for subject in set(graph.subjects()):
        if isinstance(subject, rdflib.URIRef):
            for lang, text in _literal_map(graph, subject, _label_predicates(), 200).items():
                out.append((str(subject), lang, text))
    return out


def doc_of(graph: rdflib.Graph, iri: str, *, node: str, modified: str) -> Doc:
    """The Doc of resource ``iri`` described by ``graph``, held by ``node``."""
    main = rdflib.URIRef(iri)
    fields = index_fields(graph, main)
    titles = _literal_map(graph, main, _label_predicates(), 200)
    summaries = _literal_map(graph, main, (DCTERMS.description, SCHEMA.text),
                             SUMMARY_CHARS)
    texts: list[tuple[str | None, str]] = []
    langs: set[str] = set()
    for value in graph.objects():
        if isinstance(value, rdflib.Literal) and (value.datatype is None or value.language):
            texts.append((value.language, str(value)))
            if value.language:
                langs.add(value.language.split("-")[0].lower())
    facets = [("kind", t) for t in fields.types]
    facets += [("topic", t) for t in fields.topics]
    facets += [("state", s) for s in fields.states]
    facets += [("place", a) for a in fields.areas]
    facets += [("language", lang) for lang in sorted(langs)]
    facets.append(("node", node))
    if fields.platform:
        facets.append(("platform", fields.platform))
    return Doc(iri=iri, node=node, kind=_main_type(fields.types), titles=titles,
               summaries=summaries, date=fields.date, modified=modified, lat=fields.lat,
               long=fields.long, facets=facets, texts=texts, labels=labels(graph),
               links=sorted({(str(p), str(o)) for s, p, o in graph
                             if isinstance(o, rdflib.URIRef) and (
                                 s == main or str(s).startswith(iri + "#"))}))
