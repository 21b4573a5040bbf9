"""An election read back from RDF: units, parties, candidates, contests, results.

Export and verify work on this, whatever the graph came from (a node's store, a file
mapped in memory, a remote node's SPARQL endpoint). Only what those need is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.term import Node

from ddsnode.elections.plausibility import Figures
from ddsnode.rdf.vocab import DCTERMS, DDS, SCHEMA

FOAF_NAME = URIRef("http://xmlns.com/foaf/0.1/name")
FOAF_PERSON = URIRef("http://xmlns.com/foaf/0.1/Person")
COUNT_NS = "https://w3id.org/dds/count-type/"
STATUS_NS = "https://w3id.org/dds/results-status/"


@dataclass
class Unit:
    """A reporting unit (GpUnit) and its place in the hierarchy."""

    iri: str
    ident: str
    name: str
    kind: str  # gpUnitType
    ocd_id: str | None = None
    registered: int | None = None
    parent: str | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class Selection:
    """One ballot selection of a contest."""

    iri: str
    ident: str
    kind: str  # CandidateSelection, BallotMeasureSelection, PartySelection
    candidates: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)


@dataclass
class Candidacy:
    """A candidate: source id, ballot names, party, post-election status."""

    ident: str
    names: dict[str, str]
    party: str | None
    status: str | None = None
    person: str | None = None  # dds:person, the IRI of the person standing


@dataclass
class Contest:
    """A contest with its selections."""

    iri: str
    ident: str
    kind: str  # CandidateContest or BallotMeasureContest
    title: dict[str, str]
    name: str
    district: str | None
    votes_allowed: int | None
    number_elected: int | None
    offices: list[str]
    full_text: dict[str, str]
    selections: list[Selection]


@dataclass
class Result:
    """A ContestResult: its figures plus status and sequence."""

    contest: str
    status: str | None
    sequence: int | None
    reported: str | None
    figures: Figures
    # round number -> (selection, count type) -> count: a ranked-choice tabulation's
    # rounds (dds:hasRound); the figures are the last round's.
    rounds: dict[int, dict[tuple[str, str], int]] = field(default_factory=dict)


@dataclass
class ElectionModel:
    """One election with everything its contests refer to."""

    iri: str
    ident: str
    title: dict[str, str]
    kind: str
    start: str
    end: str
    scope: str | None
    contests: list[Contest]
    units: dict[str, Unit]
    parties: dict[str, tuple[str, str, str | None]]  # iri -> (ident, name, abbreviation)
    candidates: dict[str, Candidacy]
    offices: dict[str, tuple[str, str, str | None]]  # iri -> (ident, name, district)
    results: list[Result]
    persons: dict[str, tuple[str, str]] = field(default_factory=dict)  # iri -> (ident, name)


def _text(g: rdflib.Graph, s: Node, p: URIRef) -> str:
    value = g.value(s, p)
    return str(value) if value is not None else ""


def integer_of(g: rdflib.Graph, s: Node, p: URIRef) -> int | None:
    """The integer value of ``s p``, or None when absent or not an integer (the shapes
    report an ill-typed count; readers of counts skip it)."""
    value = g.value(s, p)
    if isinstance(value, Literal):
        try:
            return int(str(value))
        except ValueError:
            return None
    return None


def _langs(g: rdflib.Graph, s: Node, p: URIRef) -> dict[str, str]:
    return {(o.language or "und"): str(o) for o in g.objects(s, p) if isinstance(o, Literal)}


def _ident(g: rdflib.Graph, s: Node) -> str:
    """The source identifier, else the last segment of the IRI."""
    return _text(g, s, DCTERMS.identifier) or str(s).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _local(iri: Node | None, ns: str) -> str | None:
    return str(iri)[len(ns):] if iri is not None and str(iri).startswith(ns) else None


def units_of(g: rdflib.Graph) -> dict[str, Unit]:
    """Every GpUnit (and subclass) in ``g``, with parents from either direction."""
    out: dict[str, Unit] = {}
    subjects: dict[str, URIRef] = {}  # the graph's own terms, not one built per lookup
    unit_type, ocd, registered = DDS.gpUnitType, DDS.ocdId, DDS.registeredVoters
    for cls in (DDS.GpUnit, DDS.ElectoralDistrict, DDS.PollingStation):
        for s in g.subjects(RDF.type, cls):
            if str(s) in out or not isinstance(s, URIRef):
                continue
            subjects[str(s)] = s
            out[str(s)] = Unit(str(s), _ident(g, s), _text(g, s, FOAF_NAME),
                               _text(g, s, unit_type) or "other",
                               _text(g, s, ocd) or None, integer_of(g, s, registered))
    composing, part_of, serves = DDS.composingUnit, DDS.partOfUnit, DDS.servesUnit
    for unit in out.values():
        s = subjects[unit.iri]
        for child in g.objects(s, composing):
            if str(child) in out:
                out[str(child)].parent = unit.iri
        parent = g.value(s, part_of)
        if parent is not None and str(parent) in out:
            unit.parent = str(parent)
        # A polling station is placed by the unit its voters belong to (dds:servesUnit)
        # when nothing else places it; one served unit only, or the tree would not be one.
        served = [str(o) for o in g.objects(s, serves) if str(o) in out]
        if unit.parent is None and len(served) == 1:
            unit.parent = served[0]
    for unit in out.values():
        if unit.parent:
            out[unit.parent].children.append(unit.iri)
    return out


def results_of(g: rdflib.Graph, units: dict[str, Unit],
               allowed: dict[str, int | None]) -> list[Result]:
    """Every ContestResult in ``g`` with its vote counts."""
    out = []
    for s in g.subjects(RDF.type, DDS.ContestResult):
        unit = _text(g, s, DDS.reportingUnit)
        contest = _text(g, s, DDS.contest)
        counts: dict[tuple[str, str], int] = {}
        for vc in g.objects(s, DDS.hasVoteCount):
            ctype = _local(g.value(vc, DDS.countType), COUNT_NS) or "other"
            key = (_text(g, vc, DDS.selection), ctype)
            counts[key] = counts.get(key, 0) + (integer_of(g, vc, DDS.count) or 0)
        place = units.get(unit)
        registered = integer_of(g, s, DDS.registeredVoters)
        figures = Figures(str(s), unit, place.name if place else "",
                          registered if registered is not None else
                          (place.registered if place else None),
                          integer_of(g, s, DDS.ballotsCast), integer_of(g, s, DDS.blankBallots),
                          integer_of(g, s, DDS.invalidBallots), allowed.get(contest), counts)
        rounds: dict[int, dict[tuple[str, str], int]] = {}
        for rnd in g.objects(s, DDS.hasRound):
            number = integer_of(g, rnd, DDS.roundNumber)
            if number is None:
                continue
            per = rounds.setdefault(number, {})
            for vc in g.objects(rnd, DDS.roundCount):
                ctype = _local(g.value(vc, DDS.countType), COUNT_NS) or "other"
                key = (_text(g, vc, DDS.selection), ctype)
                per[key] = per.get(key, 0) + (integer_of(g, vc, DDS.count) or 0)
        out.append(Result(contest, _local(g.value(s, DDS.resultsStatus), STATUS_NS),
                          integer_of(g, s, DDS.sequence), _text(g, s, DDS.reportedAt) or None,
                          figures, rounds))
    return out


def current(results: list[Result]) -> dict[tuple[str, str], Result]:
    """(contest, unit) -> the publication with the highest sequence."""
    out: dict[tuple[str, str], Result] = {}
    for r in results:
        key = (r.contest, r.figures.unit)
        if key not in out or (r.sequence or 0) > (out[key].sequence or 0):
            out[key] = r
    return out


def contest_of(g: rdflib.Graph, s: URIRef) -> Contest:
    """One contest and its selections."""
    kind = "BallotMeasureContest" if (s, RDF.type, DDS.BallotMeasureContest) in g \
        else "CandidateContest"
    selections = []
    for sel in sorted(g.objects(s, DDS.hasSelection), key=str):
        skind = next((str(t).rsplit("#", 1)[-1] for t in g.objects(sel, RDF.type)
                      if str(t).endswith("Selection")), "CandidateSelection")
        selections.append(Selection(
            str(sel), _ident(g, sel), skind,
            sorted(str(c) for c in g.objects(sel, DDS.candidate)),
            sorted(str(p) for p in g.objects(sel, DDS.party)),
            _langs(g, sel, DDS.selectionText)))
    district = g.value(s, DDS.electoralDistrict)
    return Contest(str(s), _ident(g, s), kind, _langs(g, s, DCTERMS.title),
                   _text(g, s, FOAF_NAME), str(district) if district else None,
                   integer_of(g, s, DDS.votesAllowed), integer_of(g, s, DDS.numberElected),
                   sorted(str(o) for o in g.objects(s, DDS.office)),
                   _langs(g, s, DDS.fullText), selections)


def election_of(g: rdflib.Graph, iri: str) -> ElectionModel:
    """The election ``iri`` as found in ``g``; ValueError when ``g`` has no such election."""
    s = URIRef(iri)
    if (s, RDF.type, DDS.Election) not in g:
        raise ValueError(f"{iri} is not an Election here")
    contests = [contest_of(g, c) for c in sorted(g.objects(s, DDS.hasContest), key=str)
                if isinstance(c, URIRef)]
    units = units_of(g)
    allowed = {c.iri: c.votes_allowed for c in contests}
    mine = set(allowed)
    results = [r for r in results_of(g, units, allowed) if r.contest in mine]
    parties = {str(p): (_ident(g, p), _text(g, p, FOAF_NAME),
                        _text(g, p, DDS.abbreviation) or None)
               for p in g.subjects(RDF.type, DDS.Party)}
    candidates = {}
    for c in g.subjects(RDF.type, DDS.Candidate):
        party = g.value(c, DDS.party)
        person = g.value(c, DDS.person)
        candidates[str(c)] = Candidacy(_ident(g, c), _langs(g, c, DDS.ballotName),
                                       str(party) if party else None,
                                       _text(g, c, DDS.postElectionStatus) or None,
                                       str(person) if person else None)
    persons = {str(p): (_ident(g, p), _text(g, p, FOAF_NAME))
               for p in g.subjects(RDF.type, FOAF_PERSON) if isinstance(p, URIRef)}
    offices = {}
    for o in g.subjects(RDF.type, DDS.Office):
        district = g.value(o, DDS.electoralDistrict)
        offices[str(o)] = (_ident(g, o), _text(g, o, FOAF_NAME),
                           str(district) if district else None)
    scope = g.value(s, DDS.electionScope)
    return ElectionModel(iri, _ident(g, s), _langs(g, s, DCTERMS.title),
                         _text(g, s, DDS.electionType) or "other",
                         _text(g, s, SCHEMA.startDate), _text(g, s, SCHEMA.endDate),
                         str(scope) if scope else None, contests, units, parties,
                         candidates, offices, results, persons)
