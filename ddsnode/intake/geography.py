"""Elections, contests and the reporting-unit tree, as the intake needs them.

Read from the node's store (members of ``places/`` and ``elections/``), never through
SPARQL: a polling station points at the unit it serves (``servesUnit``), a unit at its
parent (``partOfUnit``) or a parent at its children (``composingUnits``); all three
count. A contest's stations are the polling stations whose ancestors include its
electoral district. :meth:`Geography.stations_below` is computed once per load, so the
``stations_total`` of a unit is a dict lookup on the tally path.

Cost (100,000 stations × 10 contests must load in seconds, at the server's start): the
units are read member by member, each resource's N-Triples parsed by pyoxigraph and
only the six predicates above kept, with no combined rdflib graph (which cost about
10 µs a triple to build and query); each station's chain of ancestors is computed once,
and contests that share an electoral district share their station counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
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
        # Per electoral district (None: the whole node), shared by its contests: unit ->
        # how many of the district's stations lie below (or are) it, and its stations.
        chains = [self.ancestors(u.iri) for u in units.values() if u.station]
        self._below: dict[str | None, dict[str, int]] = {}
        self._stations: dict[str | None, frozenset[str]] = {}
        for district in {c.district for c in contests.values()}:
            below: dict[str, int] = defaultdict(int)
            stations = set()
            for chain in chains:
                if district is None or district in chain:
                    stations.add(chain[0])
                    for above in chain:
                        below[above] += 1
            self._below[district] = dict(below)
            self._stations[district] = frozenset(stations)
        self._sorted: dict[str | None, list[str]] = {}
        self._identified: dict[str | None, dict[str, str]] = {}

    def _district(self, contest: str) -> str | None:
        info = self.contests.get(contest)
        return info.district if info is not None else ""  # "": no contest, nothing below

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
        return self._stations.get(self._district(contest), frozenset())

    def stations_below(self, contest: str, unit: str) -> int:
        """How many of the contest's stations are ``unit`` or lie below it."""
        return self._below.get(self._district(contest), {}).get(unit, 0)

    def units_of(self, contest: str) -> list[str]:
        """Every unit with at least one of the contest's stations at or below it, sorted
        (computed once per district; callers must not change the list)."""
        district = self._district(contest)
        found = self._sorted.get(district)
        if found is None:
            found = self._sorted[district] = sorted(self._below.get(district, {}))
        return found

    def station_by_identifier(self, contest: str, identifier: str) -> str | None:
        """The contest's station whose source identifier is ``identifier`` (EML names
        stations by their ``ReportingUnitIdentifier``): a dict lookup, the dict built
        once per district (the first station in IRI order when two share one)."""
        district = self._district(contest)
        index = self._identified.get(district)
        if index is None:
            index = {}
            for station in sorted(self._stations.get(district, ())):
                index.setdefault(self.units[station].identifier, station)
            self._identified[district] = index
        found = index.get(identifier)
        return found if found is not None and identifier else None


def _members(store: Store, container: str,
             checkpoint: Callable[[], None] = lambda: None) -> list[str]:
    out: list[str] = []
    cursor: str | None = None
    while True:
        checkpoint()
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


_TYPE, _STATION = str(RDF.type), str(DDS.PollingStation)
_UNIT_TYPES = tuple(str(t) for t in UNIT_TYPES)
_KEPT = {_TYPE, *(str(p) for p in (DDS.gpUnitType, DCTERMS.identifier, DDS.registeredVoters,
                                  DDS.composingUnit, DDS.partOfUnit, DDS.servesUnit))}
Facts = dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]]


def _unit_facts(store: Store, iris: list[str], checkpoint: Callable[[], None]) -> Facts:
    """subject IRI -> predicate -> objects, for the predicates units are read from, over
    every stored member that names a unit type (as one graph of them all would hold)."""
    facts: Facts = defaultdict(lambda: defaultdict(list))
    for n, iri in enumerate(iris):
        if n % 500 == 0:
            checkpoint()
        stored = store.get(iri)
        if stored is None or stored.kind != "rdf" or not any(m in stored.ntriples
                                                             for m in _UNIT_TYPES):
            continue
        for t in ox.parse(stored.ntriples, format=ox.RdfFormat.N_TRIPLES):
            subject, predicate = t.subject, t.predicate.value
            if predicate in _KEPT and isinstance(subject, ox.NamedNode):
                facts[subject.value][predicate].append(t.object)
    return facts


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return term.value if term is not None else ""


def _integer(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> int | None:
    """As :func:`ddsnode.elections.model.integer_of` reads a count."""
    if not isinstance(term, ox.Literal):
        return None
    try:
        return int(term.value)
    except ValueError:
        return None


def load_geography(store: Store, base: str,
                   checkpoint: Callable[[], None] = lambda: None) -> Geography:
    """Read every unit (``places/``) and contest (``elections/``) of the node;
    ``checkpoint`` is called between pages (it raises to stop a start, :mod:`.opening`)."""
    facts = _unit_facts(store, _members(store, base + "places/", checkpoint), checkpoint)

    def first(s: str, p: URIRef) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
        found = facts[s].get(str(p))
        return found[0] if found else None

    def iris(s: str, p: URIRef) -> list[str]:
        return [o.value for o in facts[s].get(str(p), ()) if isinstance(o, ox.NamedNode)]

    units: dict[str, UnitInfo] = {}
    for cls in _UNIT_TYPES:
        for iri in facts:
            if iri in units or cls not in iris(iri, RDF.type):
                continue
            kind = _text(first(iri, DDS.gpUnitType)) or "other"
            units[iri] = UnitInfo(iri, kind,
                                  _STATION in iris(iri, RDF.type) or kind == "polling-place",
                                  _text(first(iri, DCTERMS.identifier)),
                                  _integer(first(iri, DDS.registeredVoters)))
    checkpoint()
    for unit in units.values():
        for child in iris(unit.iri, DDS.composingUnit):
            if child in units and child != unit.iri:
                units[child].parent = unit.iri
        for p in (DDS.partOfUnit, DDS.servesUnit):
            parent = first(unit.iri, p)
            if isinstance(parent, ox.NamedNode) and parent.value in units and \
                    parent.value != unit.iri:
                unit.parent = parent.value
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
