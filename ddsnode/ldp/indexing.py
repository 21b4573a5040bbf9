"""IndexFields: what container filters look at, taken from a resource's graph at write time.

The store keeps these as columns, so a filtered container page is an index query
rather than a scan of graphs (see ``docs/architecture.md``, storage contract).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import rdflib
from rdflib.term import Node

from ddsnode.clock import TIMESTAMP
from ddsnode.rdf.vocab import DCTERMS, DDS, FOAF, GEO, RDF, RDFS, SCHEMA, SKOS
from ddsnode.store.base import IndexFields

TEXT_LIMIT = 64 * 1024  # characters of full text kept per resource
TITLE_LIMIT = 200


@cache
def _terms() -> dict[str, rdflib.URIRef]:
    # Looked up on first use so that importing this module never needs the ontology.
    return {"state": DDS.state, "inArea": DDS.inArea, "sourcePlatform": DDS.sourcePlatform}


def _objects(graph: rdflib.Graph, subject: Node, predicate: rdflib.URIRef) -> list[Node]:
    return sorted(graph.objects(subject, predicate), key=str)


def _places(graph: rdflib.Graph, main: rdflib.URIRef) -> list[Node]:
    return [main, *_objects(graph, main, DCTERMS.spatial)]


def _float(graph: rdflib.Graph, nodes: list[Node], predicate: rdflib.URIRef) -> float | None:
    for node in nodes:
        for value in _objects(graph, node, predicate):
            if isinstance(value, rdflib.Literal):
                try:
                    return float(str(value))
                except ValueError:
                    continue
    return None


def normalise_date(text: str) -> str | None:
    """An ISO date stays as is; a dateTime becomes UTC ``YYYY-MM-DDTHH:MM:SSZ``; else None."""
    text = text.strip()
    if len(text) == 10:
        try:
            datetime.strptime(text, "%Y-%m-%d")
            return text
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP)


def _date(graph: rdflib.Graph, main: rdflib.URIRef) -> str | None:
    # The date a resource is "about": when it happens, else when it was published.
    for predicate in (SCHEMA.startDate, DCTERMS.date, DCTERMS.issued, DCTERMS.created):
        for value in _objects(graph, main, predicate):
            found = normalise_date(str(value))
            if found:
                return found
    return None


def title_of(graph: rdflib.Graph, main: Node, lang: str = "en") -> str:
    """A human title for listings: dct:title, foaf:name, skos:prefLabel … (``lang`` first)."""
    for predicate in (DCTERMS.title, FOAF.name, SKOS.prefLabel, SCHEMA.name, RDFS.label,
                      SCHEMA.text, DCTERMS.description):
        values = [v for v in graph.objects(main, predicate) if isinstance(v, rdflib.Literal)]
        if values:
            values.sort(key=lambda v: (v.language != lang, v.language is not None, str(v)))
            text = " ".join(str(values[0]).split())
            return text if len(text) <= TITLE_LIMIT else text[:TITLE_LIMIT - 1] + "…"
    return ""


def _text(graph: rdflib.Graph) -> str:
    parts: list[str] = []
    size = 0
    for value in sorted({o for o in graph.objects() if isinstance(o, rdflib.Literal)
                         and (o.datatype is None or o.language)}, key=str):
        parts.append(str(value))
        size += len(parts[-1]) + 1
        if size > TEXT_LIMIT:
            break
    return " ".join(parts)[:TEXT_LIMIT]


def index_fields(graph: rdflib.Graph, main: rdflib.URIRef) -> IndexFields:
    """The IndexFields of the resource ``main`` described by ``graph``."""
    terms = _terms()
    places = _places(graph, main)
    areas: set[str] = set()
    for node in places:
        areas.update(str(o) for o in graph.objects(node, terms["inArea"]))
    areas.update(str(o) for o in graph.objects(main, DCTERMS.spatial)
                 if isinstance(o, rdflib.URIRef) and not str(o).startswith(str(main) + "#"))
    platform = next((str(o) for o in _objects(graph, main, terms["sourcePlatform"])), None)
    return IndexFields(
        types=tuple(sorted(str(t) for t in graph.objects(main, RDF.type))),
        topics=tuple(sorted(str(t) for t in graph.objects(main, DCTERMS.subject))),
        states=tuple(sorted(str(t) for t in graph.objects(main, terms["state"]))),
        areas=tuple(sorted(areas)),
        platform=platform,
        lat=_float(graph, places, GEO.lat),
        long=_float(graph, places, GEO.long),
        date=_date(graph, main),
        title=title_of(graph, main),
        text=_text(graph),
    )
