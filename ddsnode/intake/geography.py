"""Elections, contests and the reporting-unit tree, as the intake needs them.

Read from the node's store (members of ``places/`` and ``elections/``), never through
SPARQL: a polling station points at the unit it serves (``servesUnit``), a unit at its
parent (``partOfUnit``) or a parent at its children (``composingUnits``); all three
count. A contest's stations are the polling stations whose ancestors include its
electoral district. :meth:`Geography.stations_below` is computed once per load, so the
``stations_total`` of a unit is a dict lookup on the tally path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import rdflib
from rdflib import RDF, URIRef

from ddsnode.elections.model import integer_of
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DCTERMS, DDS
from ddsnode.store.base import Store

__all__ = ["ContestInfo", "Geography", "UnitInfo", "load_geography"]

UNIT_TYPES = (DDS.GpUnit, DDS.ElectoralDistrict, DDS.PollingStation)
CONTEST_TYPES = (DDS.CandidateContest, DDS.BallotMeasureContest)
MAX_DEPTH = 32  # a unit tree deeper than this is a cycle in the data, not a country


@dataclass
class UnitInfo:
    """One reporting unit: its kind, parent, source identifier, registered voters."""

    iri: str
    kind: str
    station: bool
    identifier: str = ""
    registered: int | None = None
    parent: str | None = None


@dataclass
class ContestInfo:
    """One contest: its election, district, votes allowed and selections."""

    iri: str
    election: str
    district: str | None
    votes_allowed: int | None
    selections: frozenset[str] = field(default_factory=frozenset)


class Geography:
    """The elections, contests and units of one node at one moment."""

    def __init__(self, units: dict[str, UnitInfo], contests: dict[str, ContestInfo]) -> None:
        self.units = units
        self.contests = contests
        self.elections: dict[str, list[str]] = defaultdict(list)
        for iri in sorted(contests):
            self.elections[contests[iri].election].append(iri)
        # contest -> unit -> how many of the contest's stations lie below (or are) it
        self._below: dict[str, dict[str, int]] = {}
        self._stations: dict[str, frozenset[str]] = {}
        for contest in contests.values():
            below: dict[str, int] = defaultdict(int)
            stations = set()
            for unit in units.values():
                if not unit.station:
                    continue
                chain = self.ancestors(unit.iri)
                if contest.district is None or contest.district in chain:
                    stations.add(unit.iri)
                    for above in chain:
                        below[above] += 1
            self._below[contest.iri] = dict(below)
            self._stations[contest.iri] = frozenset(stations)

    def ancestors(self, unit: str) -> list[str]:
        """``unit`` and every unit above it, nearest first."""
        chain = [unit]
        parent = self.units[unit].parent if unit in self.units else None
        while parent is not None and parent not in chain and len(chain) < MAX_DEPTH:
            chain.append(parent)
            parent = self.units[parent].parent if parent in self.units else None
        return chain

    def stations_of(self, contest: str) -> frozenset[str]:
        """The polling stations that vote in ``contest``."""
        return self._stations.get(contest, frozenset())

    def stations_below(self, contest: str, unit: str) -> int:
        """How many of the contest's stations are ``unit`` or lie below it."""
        return self._below.get(contest, {}).get(unit, 0)

    def units_of(self, contest: str) -> list[str]:
        """Every unit with at least one of the contest's stations at or below it."""
        return sorted(self._below.get(contest, {}))

    def station_by_identifier(self, contest: str, identifier: str) -> str | None:
        """The contest's station whose source identifier is ``identifier`` (EML names
        stations by their ``ReportingUnitIdentifier``)."""
        for station in self.stations_of(contest):
            if self.units[station].identifier == identifier:
                return station
        return None


def _members(store: Store, container: str) -> list[str]:
    out: list[str] = []
    cursor: str | None = None
    while True:
        page = store.children(container, after=cursor, limit=500)
        out.extend(c.iri for c in page.items if c.kind == "rdf")
        if not page.next:
            return out
        cursor = page.next


def _graph(store: Store, iris: list[str], marker: tuple[str, ...]) -> rdflib.Graph:
    """The stored graphs of ``iris`` whose N-Triples name one of the ``marker`` types."""
    graph = rdflib.Graph()
    for iri in iris:
        stored = store.get(iri)
        if stored is None or stored.kind != "rdf" or not any(m in stored.ntriples
                                                             for m in marker):
            continue
        graph += rdfio.graph_from_ntriples(stored.ntriples)
    return graph


def load_geography(store: Store, base: str) -> Geography:
    """Read every unit (``places/``) and contest (``elections/``) of the node."""
    g = _graph(store, _members(store, base + "places/"),
               tuple(str(t) for t in UNIT_TYPES))
    units: dict[str, UnitInfo] = {}
    for cls in UNIT_TYPES:
        for s in g.subjects(RDF.type, cls):
            if not isinstance(s, URIRef) or str(s) in units:
                continue
            kind = str(g.value(s, DDS.gpUnitType) or "other")
            units[str(s)] = UnitInfo(
                str(s), kind, (s, RDF.type, DDS.PollingStation) in g or kind == "polling-place",
                str(g.value(s, DCTERMS.identifier) or ""), integer_of(g, s, DDS.registeredVoters))
    for unit in units.values():
        s = URIRef(unit.iri)
        for child in g.objects(s, DDS.composingUnit):
            if str(child) in units and str(child) != unit.iri:
                units[str(child)].parent = unit.iri
        for p in (DDS.partOfUnit, DDS.servesUnit):
            parent = g.value(s, p)
            if parent is not None and str(parent) in units and str(parent) != unit.iri:
                unit.parent = str(parent)
    e = _graph(store, _members(store, base + "elections/"),
               tuple(str(t) for t in (*CONTEST_TYPES, DDS.Election)))
    election_of = {str(c): str(el) for el in e.subjects(RDF.type, DDS.Election)
                   for c in e.objects(el, DDS.hasContest)}
    contests: dict[str, ContestInfo] = {}
    for cls in CONTEST_TYPES:
        for s in e.subjects(RDF.type, cls):
            if not isinstance(s, URIRef):
                continue
            election = str(e.value(s, DDS.election) or election_of.get(str(s), ""))
            if not election:
                continue  # a contest of no election has no election night
            district = e.value(s, DDS.electoralDistrict)
            contests[str(s)] = ContestInfo(
                str(s), election, str(district) if district is not None else None,
                integer_of(e, s, DDS.votesAllowed),
                frozenset(str(sel) for sel in e.objects(s, DDS.hasSelection)))
    return Geography(units, contests)
