"""NIST SP 1500-100 v2 Election Results CDF (JSON, or XML through :mod:`.nistxml`) ->
documents.

What maps to what is the table in docs/elections.md. In short: each ``GpUnit`` becomes a
place (``ElectoralDistrict`` when a contest or office names it as its district,
``PollingStation`` for a ``polling-place``, else ``GpUnit``) with its OCD-ID and its
hierarchy both ways; each ``Party``, ``Office`` and ``Candidate`` a resource; each
``Contest`` a resource with its selections inline; and the ``VoteCounts`` of a contest,
grouped by ``GpUnitId``, one ``ContestResult`` per contest and unit, with the report's
``Status``, ``SequenceEnd`` and ``GeneratedDate`` and the unit's ``BallotCounts``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ddsnode.elections import nistxml
from ddsnode.elections.documents import COUNT_TYPES, STATUSES, Document, Naming, document

Json = dict[str, Any]
ZONED = re.compile(r"T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$")


class NistError(ValueError):
    """The file is not a NIST SP 1500-100 election report this importer can read."""


def read_report(data: bytes, name: str) -> Json:
    """The ElectionReport in ``data`` (JSON or XML, by its first byte)."""
    head = data.lstrip()[:1]
    if head == b"<":
        try:
            return nistxml.parse(data)
        except nistxml.UnsafeXml as e:
            raise NistError(f"{name}: {e}") from None
    try:
        report = json.loads(data)
    except ValueError as e:
        raise NistError(f"{name}: not JSON or XML ({e})") from None
    if not isinstance(report, dict) or "ElectionReport" not in str(report.get("@type", "")):
        raise NistError(f"{name}: not a NIST ElectionResults.ElectionReport")
    return report


def as_list(value: Any) -> list[Any]:
    """A JSON/XML value that may be one item or a list, as a list."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def texts(value: Any, default_lang: str) -> dict[str, str]:
    """{language: text} of an InternationalizedText (or of a plain string)."""
    if isinstance(value, str):
        return {default_lang: value} if value.strip() else {}
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for item in as_list(value.get("Text")):
            if isinstance(item, dict) and str(item.get("Content", "")).strip():
                out.setdefault(item.get("Language") or default_lang, str(item["Content"]))
    return out


def first_text(value: Any) -> str:
    """One text of an InternationalizedText, or the string itself."""
    found = texts(value, "und")
    return next(iter(found.values()), "")


def integer(value: Any) -> int | None:
    """A count as an int; None when absent. ValueError when it is not a whole number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):  # JSON true is not a count (a ValueError like "x")
        raise ValueError(f"{value!r} is not a count")  # noqa: TRY004
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    number = int(str(value).strip())
    return number


def ocd_id(item: Json) -> str | None:
    """The OCD-ID among an object's ExternalIdentifiers."""
    for ext in as_list(item.get("ExternalIdentifier")):
        if isinstance(ext, dict) and ext.get("Type") == "ocd-id":
            return str(ext.get("Value", "")) or None
    return None


def kind_of(item: Json) -> str:
    """``ElectionResults.CandidateContest`` -> ``CandidateContest``."""
    return str(item.get("@type", "")).rsplit(".", 1)[-1]


class Mapper:
    """Maps one report to documents, keeping the source's ids as ``identifier``."""

    def __init__(self, naming: Naming, digest: str, file: str, default_lang: str = "en") -> None:
        self.naming = naming
        self.digest = digest
        self.file = file
        self.lang = default_lang
        self.notes: list[str] = []  # what was dropped or guessed, for the report

    def _doc(self, kind: str, ident: str, iri: str, type_: str, **terms: Any) -> Document:
        doc = document(iri, type_, identifier=ident, sourceDigest=self.digest, **terms)
        return Document(kind, ident, iri, doc, self.file, 0)

    def unit_iri(self, ident: str) -> str:
        """The IRI of the place made from GpUnit ``ident``."""
        return self.naming.iri("places", "unit", ident)

    def documents(self, report: Json) -> list[Document]:
        """Every document of the report, places and parties first (they are referred to)."""
        elections = as_list(report.get("Election"))
        if not elections:
            raise NistError(f"{self.file}: the report has no Election")
        districts = {str(c.get("ElectionDistrictId")) for e in elections
                     for c in as_list(e.get("Contest")) if isinstance(c, dict)}
        districts |= {str(o.get("ElectionDistrictId")) for o in as_list(report.get("Office"))
                      if isinstance(o, dict)}
        docs = self._units(as_list(report.get("GpUnit")), districts)
        docs += [self._party(p) for p in as_list(report.get("Party")) if isinstance(p, dict)]
        docs += [self._office(o) for o in as_list(report.get("Office")) if isinstance(o, dict)]
        docs += [d for p in as_list(report.get("Person")) if isinstance(p, dict)
                 and (d := self._person(p)) is not None]
        for number, election in enumerate(elections, start=1):
            docs += self._election(report, election, number)
        for dropped in ("GovernmentBody", "OfficeGroup", "Header"):
            if report.get(dropped):
                self.notes.append(f"{dropped}: not mapped (see docs/elections.md)")
        return docs

    # --- places, parties, offices ---------------------------------------------------

    def _units(self, units: Iterable[Any], districts: set[str]) -> list[Document]:
        parent: dict[str, str] = {}
        for unit in units:
            for child in as_list(unit.get("ComposingGpUnitIds")) if isinstance(unit, dict) else []:
                parent.setdefault(str(child), str(unit.get("@id")))
        out = []
        for unit in units:
            if not isinstance(unit, dict) or not unit.get("@id"):
                continue
            ident = str(unit["@id"])
            type_ = unit.get("Type") or "other"
            cls = ("PollingStation" if type_ == "polling-place" else
                   "ElectoralDistrict" if ident in districts else "GpUnit")
            name = first_text(unit.get("Name") or unit.get("InternationalizedName")) or ident
            out.append(self._doc(
                "unit", ident, self.unit_iri(ident), cls, name=name,
                gpUnitType=unit.get("OtherType") if type_ == "other" and
                unit.get("OtherType") else type_,
                ocdId=ocd_id(unit),
                registeredVoters=integer(unit.get("VotersRegistered")),
                ballotsCast=integer(unit.get("VotersParticipated")),
                composingUnits=[self.unit_iri(str(c)) for c in
                                as_list(unit.get("ComposingGpUnitIds"))],
                partOfUnit=self.unit_iri(parent[ident]) if ident in parent else None))
        return out

    def _party(self, party: Json) -> Document:
        ident = str(party.get("@id"))
        return self._doc("party", ident, self.naming.iri("organisations", "party", ident),
                         "Party", name=first_text(party.get("Name")) or ident,
                         abbreviation=first_text(party.get("Abbreviation") or
                                                 party.get("InternationalizedAbbreviation"))
                         or None)

    def person_iri(self, ident: str) -> str:
        """Where Person ``ident`` lives: the IRI a Popolo import of the same slug gives the
        Popolo person ``ident`` (:meth:`ddsnode.elections.popolo.Mapper.person_iri`)."""
        return self.naming.iri("organisations", "person", ident)

    def _person(self, person: Json) -> Document | None:
        """A Person by name only: contact details, birth dates, gender and the like are
        personal data the results do not need (docs/elections.md)."""
        ident = str(person.get("@id") or "")
        parts = [" ".join(str(v) for v in as_list(person.get(k)) if isinstance(v, str))
                 for k in ("Prefix", "FirstName", "MiddleName", "LastName", "Suffix")]
        name = first_text(person.get("FullName")) or " ".join(p for p in parts if p).strip()
        if not ident or not name:
            self.notes.append("Person without @id or name: not mapped")
            return None
        if any(person.get(k) for k in ("ContactInformation", "DateOfBirth", "Gender",
                                       "Profession", "Title")):
            self.notes.append("Person: contact details, birth date, gender, profession and "
                              "title not imported (personal data)")
        return self._doc("person", ident, self.person_iri(ident), "Person", name=name)

    def _office(self, office: Json) -> Document:
        ident = str(office.get("@id"))
        district = office.get("ElectionDistrictId")
        return self._doc("office", ident, self.naming.iri("elections", "office", ident),
                         "Office", name=first_text(office.get("Name")) or ident,
                         electoralDistrict=self.unit_iri(str(district)) if district else None)

    # --- elections, contests, results -----------------------------------------------

    def _election(self, report: Json, election: Json, number: int) -> list[Document]:
        ident = str(election.get("@id") or number)
        iri = self.naming.iri("elections", "election", ident)
        cand_docs: list[Document] = []
        result_docs: list[Document] = []
        candidates = {str(c.get("@id")): c for c in as_list(election.get("Candidate"))
                      if isinstance(c, dict)}
        for cand in candidates.values():
            cid = str(cand.get("@id"))
            party = cand.get("PartyId")
            cand_docs.append(self._doc(
                "candidate", cid, self.naming.iri("elections", "candidate", cid), "Candidate",
                ballotName=texts(cand.get("BallotName"), self.lang),
                postElectionStatus=cand.get("PostElectionStatus") or None,
                person=self.person_iri(str(cand["PersonId"])) if cand.get("PersonId") else None,
                party=self.naming.iri("organisations", "party", str(party)) if party else None))
        contests = []
        for contest in as_list(election.get("Contest")):
            if isinstance(contest, dict) and contest.get("@id"):
                contests.append(contest)
        ballots = self._ballot_counts(election)
        status = STATUSES.get(str(report.get("Status", "")), None)
        sequence = integer(report.get("SequenceEnd"))
        reported = str(report.get("GeneratedDate") or "") or None
        if reported and not ZONED.search(reported):
            # NIST requires a zone (DateTimeWithZone) and so do our shapes; guessing one
            # would invent data, so the time is left out and said so.
            self.notes.append(f"GeneratedDate {reported} has no time zone: reportedAt left out")
            reported = None
        contest_docs = []
        for contest in contests:
            contest_docs.append(self._contest(contest, iri))
            result_docs += self._results(contest, status, sequence, reported, ballots)
        scope = election.get("ElectionScopeId")
        etype = election.get("Type") or None
        head = self._doc(
            "election", ident, iri, "Election",
            title=texts(election.get("Name"), self.lang),
            electionType=election.get("OtherType") if etype == "other" and
            election.get("OtherType") else etype,
            startDate=election.get("StartDate"), endDate=election.get("EndDate"),
            electionScope=self.unit_iri(str(scope)) if scope else None,
            contests=[d.iri for d in contest_docs])
        return [*cand_docs, *contest_docs, head, *result_docs]

    def _ballot_counts(self, election: Json) -> dict[str, Json]:
        """GpUnitId -> the election's BallotCounts of type total for it."""
        out: dict[str, Json] = {}
        for counts in as_list(election.get("BallotCounts")):
            if isinstance(counts, dict) and counts.get("Type") in ("total", None):
                out[str(counts.get("GpUnitId"))] = counts
        return out

    def _contest(self, contest: Json, election: str) -> Document:
        ident = str(contest["@id"])
        iri = self.naming.iri("elections", "contest", ident)
        kind = kind_of(contest)
        selections = []
        for sel in as_list(contest.get("ContestSelection")):
            if not isinstance(sel, dict) or not sel.get("@id"):
                continue
            sid = f"{iri}#{sel['@id']}"
            skind = kind_of(sel)
            item: Json = {"id": sid, "type": skind, "identifier": str(sel["@id"])}
            if skind == "CandidateSelection":
                item["candidates"] = [self.naming.iri("elections", "candidate", str(c))
                                      for c in as_list(sel.get("CandidateIds"))]
                item["party"] = [self.naming.iri("organisations", "party", str(p))
                                 for p in as_list(sel.get("EndorsementPartyIds"))]
            elif skind == "PartySelection":
                item["party"] = [self.naming.iri("organisations", "party", str(p))
                                 for p in as_list(sel.get("PartyIds"))]
            elif skind == "BallotMeasureSelection":
                item["selectionText"] = texts(sel.get("Selection"), self.lang)
            selections.append({k: v for k, v in item.items() if v not in ([], {}, None)})
        title = texts(contest.get("BallotTitle"), self.lang) or \
            texts(contest.get("Name"), self.lang)
        district = contest.get("ElectionDistrictId")
        type_ = {"PartyContest": "CandidateContest", "RetentionContest": "BallotMeasureContest"
                 }.get(kind, kind)
        if type_ not in ("CandidateContest", "BallotMeasureContest"):
            raise NistError(f"{self.file}: contest {ident} has an unknown type {kind!r}")
        return self._doc(
            "contest", ident, iri, type_, title=title, election=election,
            name=str(contest.get("Name") or "") if isinstance(contest.get("Name"), str)
            else None,
            electoralDistrict=self.unit_iri(str(district)) if district else None,
            votesAllowed=integer(contest.get("VotesAllowed")),
            numberElected=integer(contest.get("NumberElected")),
            office=[self.naming.iri("elections", "office", str(o))
                    for o in as_list(contest.get("OfficeIds"))],
            fullText=texts(contest.get("FullText"), self.lang),
            selections=selections)

    def _results(self, contest: Json, status: str | None, sequence: int | None,
                 reported: str | None, ballots: dict[str, Json]) -> list[Document]:
        ident = str(contest["@id"])
        contest_iri = self.naming.iri("elections", "contest", ident)
        by_unit: dict[str, list[Json]] = defaultdict(list)
        # Ranked-choice rounds (VoteCounts.Round): the result's own counts are the last
        # round's (the tabulation's outcome); every round is kept in ``rounds``, under
        # ``roundCounts``, so that a reader adding up voteCounts never counts a ballot twice.
        rounds_of: dict[str, dict[int, list[Json]]] = defaultdict(lambda: defaultdict(list))
        try:
            numbers = {integer(vc.get("Round")) for sel in as_list(contest.get("ContestSelection"))
                       if isinstance(sel, dict) for vc in as_list(sel.get("VoteCounts"))
                       if isinstance(vc, dict)} - {None}
        except ValueError as e:
            raise NistError(f"{self.file}: contest {ident}: Round {e}") from None
        last = max((n for n in numbers if n is not None), default=None)
        for sel in as_list(contest.get("ContestSelection")):
            if not isinstance(sel, dict):
                continue
            for vc in as_list(sel.get("VoteCounts")):
                if not isinstance(vc, dict):
                    continue
                ctype = str(vc.get("Type", ""))
                if ctype not in COUNT_TYPES:
                    raise NistError(f"{self.file}: contest {ident}, selection {sel.get('@id')}:"
                                    f" unknown count type {ctype!r}")
                if ctype == "absentee-fwab" or (ctype == "other" and vc.get("OtherType")):
                    self.notes.append(f"count type {vc.get('OtherType') or ctype} kept as 'other'")
                try:
                    count = integer(vc.get("Count"))
                except ValueError as e:
                    raise NistError(f"{self.file}: contest {ident}, selection "
                                    f"{sel.get('@id')}: count {e}") from None
                item = {"type": "VoteCount", "selection": f"{contest_iri}#{sel['@id']}",
                        "countType": COUNT_TYPES[ctype], "count": count}
                unit, number = str(vc.get("GpUnitId")), integer(vc.get("Round"))
                if number is not None:
                    rounds_of[unit][number].append(item)
                if number is None or number == last:
                    by_unit[unit].append(item)
        out = []
        for unit in sorted(set(by_unit) | set(rounds_of)):
            counts = by_unit.get(unit, [])
            # Each publication is a resource of its own (ontology: dds:ContestResult):
            # a later report (higher sequence) adds results, it does not rewrite them.
            seq = f"-seq-{sequence}" if sequence is not None else ""
            key = f"{ident}/{unit}{seq}"
            b = ballots.get(unit, {})
            out.append(self._doc(
                "result", key, self.naming.iri("results", "result", f"{ident}-{unit}{seq}"),
                "ContestResult", contest=contest_iri, reportingUnit=self.unit_iri(unit),
                resultsStatus=status, sequence=sequence, reportedAt=reported,
                ballotsCast=integer(b.get("BallotsCast")),
                invalidBallots=integer(b.get("BallotsRejected")),
                voteCounts=counts,
                rounds=[{"type": "TabulationRound", "roundNumber": n, "roundCounts": items}
                        for n, items in sorted(rounds_of[unit].items())] or None))
        return out
