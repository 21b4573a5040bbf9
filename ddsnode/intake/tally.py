"""One polling station's tally for one contest, read from JSON-LD or an EML 510 fragment.

JSON-LD: one ``ContestResult`` in the shared context, ``contest`` and ``reportingUnit``
(the station) by IRI, ``voteCounts`` (selection, count type, count), optionally
``ballotsCast``, ``blankBallots``, ``invalidBallots``, ``registeredVoters``. Its ``id``,
``sequence``, ``resultsStatus`` and ``reportedAt`` are the node's to set (the intake
writes the result), so they are ignored.

EML 510 (Dutch profile, Kiesraad): a count file with one ``Contest`` holding exactly one
``ReportingUnitVotes`` (one station); the contest is named by the request, the station
by its ``ReportingUnitIdentifier`` ``Id`` (the ``identifier`` the EML importer keeps), the
selections as the importer names them (``{contest}#list-{list}`` and
``…-candidate-{position}``; ``docs/elections.md``). Parsed by :func:`ddsnode.elections.eml.parse`:
defusedxml, DTDs and entities refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import rdflib
from rdflib import RDF, Literal, URIRef

from ddsnode.elections import eml
from ddsnode.elections.plausibility import Figures
from ddsnode.intake.log import canonical
from ddsnode.problem import BadRequest, Unprocessable
from ddsnode.rdf.jsonld import JsonLdLimits, parse_document
from ddsnode.rdf.vocab import DDS

__all__ = ["BadTally", "Tally", "from_eml", "from_graph", "from_jsonld", "station_votes"]

COUNT_NS = "https://w3id.org/dds/count-type/"
XSD_INT = "http://www.w3.org/2001/XMLSchema#"


class BadTally(Unprocessable):
    """A tally the intake cannot take (the reason says which part)."""

    slug, title = "bad-tally", "The tally cannot be taken"


@dataclass(frozen=True)
class Tally:
    """The numbers of one station for one contest."""

    contest: str
    unit: str
    counts: tuple[tuple[str, str, int], ...]  # (selection, count type, count), sorted
    cast: int | None = None
    blank: int | None = None
    invalid: int | None = None
    registered: int | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the numbers: two entries match when their fingerprints do."""
        return hashlib.sha256(canonical(self.to_json()).encode("utf-8")).hexdigest()

    def totals(self) -> dict[str, int]:
        """selection -> its votes: the ``total`` count, else the sum of its parts."""
        return Figures("", "", counts={(s, t): c for s, t, c in self.counts}).totals()

    def figures(self, votes_allowed: int | None) -> Figures:
        """As the plausibility checks read a result."""
        return Figures(self.unit, self.unit, "", self.registered, self.cast, self.blank,
                       self.invalid, votes_allowed, {(s, t): c for s, t, c in self.counts})

    def to_json(self) -> dict[str, Any]:
        """As the event log keeps it (and :meth:`from_json` reads it back)."""
        return {"contest": self.contest, "unit": self.unit,
                "counts": [list(c) for c in self.counts], "ballotsCast": self.cast,
                "blankBallots": self.blank, "invalidBallots": self.invalid,
                "registeredVoters": self.registered}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        """The tally :meth:`to_json` wrote."""
        return cls(data["contest"], data["unit"],
                   tuple((str(s), str(t), int(c)) for s, t, c in data["counts"]),
                   data.get("ballotsCast"), data.get("blankBallots"),
                   data.get("invalidBallots"), data.get("registeredVoters"))

    def document(self, iri: str, sequence: int, status: str, reported_at: str,
                 evidence: tuple[str, str] | None = None) -> dict[str, Any]:
        """The ContestResult the node stores (JSON-LD, shared context); ``evidence`` is
        (URL, SHA-256) of the tally sheet, linked as ``source`` with its ``sourceDigest``."""
        doc: dict[str, Any] = {
            "@context": "https://w3id.org/dds/context/v1", "id": iri, "type": "ContestResult",
            "contest": self.contest, "reportingUnit": self.unit, "resultsStatus": status,
            "sequence": sequence, "reportedAt": reported_at,
            "voteCounts": [{"type": "VoteCount", "selection": s, "countType": t, "count": c}
                           for s, t, c in self.counts]}
        for key, value in (("ballotsCast", self.cast), ("blankBallots", self.blank),
                           ("invalidBallots", self.invalid),
                           ("registeredVoters", self.registered)):
            if value is not None:
                doc[key] = value
        if evidence is not None:
            doc["source"], doc["sourceDigest"] = evidence[0], "sha256:" + evidence[1]
        return doc


def _count(value: Any, what: str) -> int:
    if not isinstance(value, Literal) or not str(value.datatype or "").startswith(XSD_INT):
        raise BadTally(f"{what} must be a whole number")
    try:
        number = int(str(value))
    except ValueError:
        raise BadTally(f"{what} must be a whole number, not {str(value)[:40]!r}") from None
    if number < 0:
        raise BadTally(f"{what} cannot be negative ({number})")
    return number


def from_jsonld(data: bytes, base: str, limits: JsonLdLimits) -> Tally:
    """The tally of a JSON-LD ContestResult (400/413/422 from the JSON-LD parser)."""
    graph = parse_document(data, base, limits=limits)
    results = [s for s in graph.subjects(RDF.type, DDS.ContestResult)]
    if len(results) != 1:
        raise BadTally(f"The body must describe exactly one ContestResult "
                       f"(it describes {len(results)})")
    return from_graph(graph, results[0])


def from_graph(graph: rdflib.Graph, main: rdflib.term.Node) -> Tally:
    """The tally of the ContestResult ``main`` in ``graph`` (a submission, or a result
    already in the store); BadTally when something is missing or not a count."""
    contest, unit = graph.value(main, DDS.contest), graph.value(main, DDS.reportingUnit)
    if not isinstance(contest, URIRef) or not isinstance(unit, URIRef):
        raise BadTally("The ContestResult needs a contest and a reportingUnit (the polling "
                       "station), both IRIs")
    counts: dict[tuple[str, str], int] = {}
    for vc in graph.objects(main, DDS.hasVoteCount):
        selection = graph.value(vc, DDS.selection)
        ctype = str(graph.value(vc, DDS.countType) or COUNT_NS + "total")
        if not isinstance(selection, URIRef) or not ctype.startswith(COUNT_NS):
            raise BadTally("Each vote count needs a selection (IRI) and a countType word")
        key = (str(selection), ctype[len(COUNT_NS):])
        if key in counts:
            raise BadTally(f"Two counts of type {key[1]} for {key[0]}")
        counts[key] = _count(graph.value(vc, DDS.count), f"The count of {key[0]}")
    if not counts:
        raise BadTally("The ContestResult has no voteCounts")

    def figure(p: URIRef, what: str) -> int | None:
        value = graph.value(main, p)
        return None if value is None else _count(value, what)

    return Tally(str(contest), str(unit), tuple(sorted((s, t, c) for (s, t), c in counts.items())),
                 figure(DDS.ballotsCast, "ballotsCast"), figure(DDS.blankBallots, "blankBallots"),
                 figure(DDS.invalidBallots, "invalidBallots"),
                 figure(DDS.registeredVoters, "registeredVoters"))


def _eml_int(element: Element | None, what: str) -> int | None:
    if element is None or not (element.text or "").strip():
        return None
    text = (element.text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise BadTally(f"EML {what} {text[:40]!r} is not a whole number")
    return int(text)


def station_votes(data: bytes) -> tuple[str, Element]:
    """(station identifier, its ``ReportingUnitVotes``) of a one-station 510 fragment."""
    try:
        root = eml.parse(data, "the EML body")
    except eml.EmlError as e:
        raise BadRequest(str(e)) from None
    if not str(root.get("Id", "")).startswith("510"):
        raise BadTally("An EML tally is a 510 count (this is a 230 candidate list)")
    units = root.findall(f"{eml.EML}Count/{eml.EML}Election/{eml.EML}Contests/{eml.EML}Contest"
                         f"/{eml.EML}ReportingUnitVotes")
    if len(units) != 1:
        raise BadTally(f"An EML tally holds exactly one ReportingUnitVotes (one polling "
                       f"station); this one holds {len(units)}")
    ident = units[0].find(f"{eml.EML}ReportingUnitIdentifier")
    station = ident.get("Id") if ident is not None else None
    if not station:
        raise BadTally("The ReportingUnitVotes has no ReportingUnitIdentifier Id")
    return station, units[0]


def from_eml(votes: Element, contest: str, station: str) -> Tally:
    """The tally in ``votes`` (see :func:`station_votes`) for ``contest`` at ``station``."""
    counts: dict[str, int] = {}
    party, list_total, candidates = "", 0, None  # None: the list names no candidate votes

    def close_list() -> None:
        # A list's votes are the sum of its candidates' (Kiesraad 510; as the importer checks)
        if candidates is not None and candidates != list_total:
            raise BadTally(f"List {party} has {list_total:,} votes but its candidates add up "
                           f"to {candidates:,}")

    for sel in votes.findall(f"{eml.EML}Selection"):
        count = _eml_int(sel.find(f"{eml.EML}ValidVotes"), "ValidVotes") or 0
        aff = sel.find(f"{eml.EML}AffiliationIdentifier")
        if aff is not None:
            close_list()
            party, list_total, candidates = aff.get("Id") or "", count, None
            selection = f"{contest}#list-{party}"
        else:
            cand = sel.find(f"{eml.EML}Candidate/{eml.EML}CandidateIdentifier")
            if cand is None or not party:
                raise BadTally("A Selection is neither a list nor a candidate of a list")
            candidates = (candidates or 0) + count
            selection = f"{contest}#list-{party}-candidate-{cand.get('Id') or ''}"
        if selection in counts:
            raise BadTally(f"{selection} is counted twice")
        counts[selection] = count
    close_list()
    if not counts:
        raise BadTally("The ReportingUnitVotes has no Selection")
    rejected = {r.get("ReasonCode"): _eml_int(r, "RejectedVotes")
                for r in votes.findall(f"{eml.EML}RejectedVotes")}
    return Tally(contest, station, tuple(sorted((s, "total", c) for s, c in counts.items())),
                 _eml_int(votes.find(f"{eml.EML}Cast"), "Cast"), rejected.get("blanco"),
                 rejected.get("ongeldig"))
