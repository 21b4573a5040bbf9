"""What the voter lookup is computed from: the node's public stations, units and contests.

Read once per rebuild, never per request. The resources of the containers named by the
``voter_containers`` setting are read from the store (SQLite or PostgreSQL, directly: the
SPARQL index may lag), merged into one graph and read back with the election model
(:mod:`ddsnode.elections.model`). A resource in a private container is left out, so the
lookup, which anyone may query, shows only what anyone may read (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.term import Node as Term

from ddsnode.elections.loading import merge_ntriples
from ddsnode.elections.model import ElectionModel, Unit, election_of, units_of
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DDS, GEO, LOCN, SCHEMA
from ddsnode.store.base import Store

FOAF_NAME = URIRef("http://xmlns.com/foaf/0.1/name")


@dataclass
class Station:
    """A polling station as the lookup shows it."""

    iri: str
    name: str
    address: str
    postcode: str
    city: str
    lat: float | None
    long: float | None
    hours: list[str]
    serves: list[str]
    drop_box: bool | None = None
    early_voting: bool | None = None
    wheelchair: bool | None = None
    directions: dict[str, str] = field(default_factory=dict)


@dataclass
class Places:
    """Everything a rebuild needs, read from the store."""

    units: dict[str, Unit]
    stations: list[Station]
    districts_of: dict[str, set[str]]  # unit -> electoral districts composed of it
    elections: list[ElectionModel]
    geometry: dict[str, str]  # unit -> WKT (polygons of units that have one)


def _text(g: rdflib.Graph, s: Term, p: URIRef) -> str:
    value = g.value(s, p)
    return str(value) if value is not None else ""


def _float(g: rdflib.Graph, s: Term, p: URIRef) -> float | None:
    value = g.value(s, p)
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


def _bool(g: rdflib.Graph, s: Term, p: URIRef) -> bool | None:
    value = g.value(s, p)
    return None if value is None else str(value).lower() in ("true", "1")


def read_graph(store: Store, base: str, containers: list[str],
               may_read: Callable[[str], bool]) -> rdflib.Graph:
    """The public resources of ``containers`` as one graph (rdflib's SimpleMemory store:
    read back by pattern only, never by named graph, so no context bookkeeping)."""
    graph = rdfio.new_graph()
    scope = 0
    for container in containers:
        cursor: str | None = None
        while True:
            page = store.children(base + container, after=cursor, limit=500)
            for child in page.items:
                if child.kind != "rdf" or not may_read(child.iri):
                    continue
                stored = store.get(child.iri)
                if stored is not None and stored.kind == "rdf":
                    scope += 1
                    merge_ntriples(graph, stored.ntriples, f"r{scope}")
            if not page.next:
                break
            cursor = page.next
    return graph


def stations_of(g: rdflib.Graph) -> list[Station]:
    """Every PollingStation of ``g``."""
    out = []
    address_p, full_p, code_p, city_p = (LOCN.address, LOCN.fullAddress, LOCN.postCode,
                                         LOCN.postName)
    lat, long, hours, serves = GEO.lat, GEO.long, SCHEMA.openingHours, DDS.servesUnit
    drop_box, early, wheelchair, directions = (DDS.dropBox, DDS.earlyVoting,
                                               DDS.wheelchairAccessible, DDS.directions)
    for s in sorted(g.subjects(RDF.type, DDS.PollingStation), key=str):
        if not isinstance(s, URIRef):
            continue
        address = g.value(s, address_p)
        full = _text(g, address, full_p) if address is not None else ""
        out.append(Station(
            str(s), _text(g, s, FOAF_NAME) or full, full,
            _text(g, address, code_p) if address is not None else "",
            _text(g, address, city_p) if address is not None else "",
            _float(g, s, lat), _float(g, s, long),
            sorted(str(o) for o in g.objects(s, hours)),
            sorted(str(o) for o in g.objects(s, serves)),
            _bool(g, s, drop_box), _bool(g, s, early), _bool(g, s, wheelchair),
            {(o.language or "und"): str(o) for o in g.objects(s, directions)
             if isinstance(o, Literal)}))
    return out


def read_places(store: Store, base: str, containers: list[str],
                may_read: Callable[[str], bool]) -> Places:
    """Units, stations, district memberships and elections of the node."""
    g = read_graph(store, base, containers, may_read)
    units = units_of(g)
    # A unit's own partOfUnit wins over a district listing it among its composingUnits
    # (a precinct is part of its county and also composes a congressional district):
    # the hierarchy is partOfUnit; districts are memberships (``districts_of``).
    for unit, parent in g.subject_objects(DDS.partOfUnit):
        if str(unit) in units and str(parent) in units:
            units[str(unit)].parent = str(parent)
    districts_of: dict[str, set[str]] = {}
    for district, member in g.subject_objects(DDS.composingUnit):
        districts_of.setdefault(str(member), set()).add(str(district))
    elections = []
    for e in sorted(g.subjects(RDF.type, DDS.Election), key=str):
        try:
            elections.append(election_of(g, str(e)))
        except ValueError:
            continue
    geometry = {str(s): str(o) for s, o in g.subject_objects(
        URIRef("http://www.opengis.net/ont/geosparql#asWKT"))
        if str(s) in units and "POLYGON" in str(o).upper()}
    return Places(units, stations_of(g), districts_of, elections, geometry)
