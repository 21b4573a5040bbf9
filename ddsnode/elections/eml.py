"""OASIS EML 510 count files and 230 candidate lists (Dutch profile, Kiesraad) -> documents
(110a election definitions: :mod:`.eml_definition`).

A 510 file holds the count of one contest by one authority (a municipality in a 510b):
``TotalVotes`` for the authority's whole area and ``ReportingUnitVotes`` per polling
station. Each ``Selection`` is either a list (``AffiliationIdentifier``, its votes are
the list total) or a candidate of the list named before it (``CandidateIdentifier``:
a position on the list, no name: names are in the 230 candidate list, not in a 510).

Mapping (docs/elections.md): the election (``ElectionIdentifier``, ``ElectionName``,
``kr:ElectionDate``, ``ElectionCategory`` as ``electionType``), the contest's district
(``ContestIdentifier``, an ``ElectoralDistrict``), the authority (a municipality, part
of it) and each polling station (part of the municipality); one ``CandidateContest``
with a ``PartySelection`` per list and a ``CandidateSelection`` per candidate (its
candidate named by IRI, untyped until a 230 list is imported); one ``ContestResult``
per reporting unit: ``ValidVotes`` as ``total`` counts, ``Cast`` as ``ballotsCast``,
``RejectedVotes`` ``blanco`` / ``ongeldig`` as ``blankBallots`` / ``invalidBallots``.
Checked here: each list's votes equal the sum of its candidates' (a finding otherwise).
Parsed like NIST XML: defusedxml, DTDs and entities refused.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ddsnode.elections.documents import Document, Naming, document
from ddsnode.elections.plausibility import ERROR, Finding

EML = "{urn:oasis:names:tc:evs:schema:eml}"
KR = "{http://www.kiesraad.nl/extensions}"
XNL = "{urn:oasis:names:tc:ciq:xsdschema:xNL:2.0}"


class EmlError(ValueError):
    """The file is not an EML 510 count this importer can read."""


def parse(data: bytes, name: str) -> Element:
    """The EML root of ``data``; EmlError when refused, or not a 510 count or a 230
    candidate list."""
    try:
        # defusedxml has no stubs: fromstring is Any; it returns ElementTree's Element
        root: Element = fromstring(data, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except DefusedXmlException as e:
        raise EmlError(f"{name}: refused: the XML declares a DTD or entities "
                       f"({type(e).__name__}); EML files need neither") from None
    except ParseError as e:
        raise EmlError(f"{name}: not well-formed XML: {e}") from None
    if root.tag != f"{EML}EML" or not str(root.get("Id", "")).startswith(("510", "230", "110")):
        raise EmlError(f"{name}: not an EML 510 count file, 230 candidate list or 110a "
                       f"election definition (root {root.tag}, Id {root.get('Id')!r})")
    return root


def ledger_key(root: Element, slug: str) -> str:
    """The ledger key of a file: ``eml:SLUG`` for a 510 count (as always), ``eml230:SLUG``
    for a candidate list, ``eml110:SLUG`` for an election definition, so that re-importing
    one kind of message never tombstones what another kind of the same slug wrote."""
    kind = str(root.get("Id", ""))[:3]
    return f"eml:{slug}" if kind == "510" else f"eml{kind}:{slug}"


def _int(element: Element | None, what: str, name: str) -> int | None:
    if element is None or not (element.text or "").strip():
        return None
    text = (element.text or "").strip()
    if not text.isdigit():
        raise EmlError(f"{name}: {what} {text!r} is not a whole number")
    return int(text)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


class Mapper:
    """Maps one 510 count to documents."""

    def __init__(self, naming: Naming, digest: str, file: str, status: str,
                 max_items: int = 2_000_000) -> None:
        self.naming = naming
        self.max_items = max_items  # elections_max_rows: regions of a 110a
        self.digest = digest
        self.file = file
        self.status = status
        self.notes: list[str] = []
        self.findings: list[Finding] = []

    def _doc(self, kind: str, ident: str, iri: str, type_: str, **terms: Any) -> Document:
        doc = document(iri, type_, identifier=ident, sourceDigest=self.digest, **terms)
        return Document(kind, ident, iri, doc, self.file, 0)

    def _unit(self, ident: str) -> str:
        return self.naming.iri("places", "unit", ident)

    def documents(self, root: Element) -> list[Document]:
        """Places, parties, the contest, the election, then one result per unit (510);
        parties and candidates (230)."""
        if str(root.get("Id", "")).startswith("230"):
            return self.candidate_list(root)
        if str(root.get("Id", "")).startswith("110"):
            from ddsnode.elections.eml_definition import definition_documents
            return definition_documents(self, root)
        name = self.file
        election_el = root.find(f"{EML}Count/{EML}Election")
        ident_el = election_el.find(f"{EML}ElectionIdentifier") if election_el is not None \
            else None
        if election_el is None or ident_el is None:
            raise EmlError(f"{name}: no Count/Election/ElectionIdentifier")
        election_id = ident_el.get("Id") or "election"
        authority = root.find(f"{EML}ManagingAuthority/{EML}AuthorityIdentifier")
        authority_id = authority.get("Id") if authority is not None else None
        if not authority_id:
            raise EmlError(f"{name}: no ManagingAuthority/AuthorityIdentifier Id")
        docs: list[Document] = []
        parties: dict[str, Document] = {}
        contests = election_el.findall(f"{EML}Contests/{EML}Contest")
        if not contests:
            raise EmlError(f"{name}: no Contests/Contest")
        contest_docs, results, units = [], [], []
        for contest in contests:
            cid_el = contest.find(f"{EML}ContestIdentifier")
            cid = (cid_el.get("Id") if cid_el is not None else None) or "1"
            district = f"district-{cid}"
            units.append(self._doc("unit", district, self._unit(district), "ElectoralDistrict",
                                   name=_text(cid_el.find(f"{EML}ContestName"))
                                   if cid_el is not None else district,
                                   gpUnitType="electoral-district",  # schemes/unit-kind
                                   composingUnits=[self._unit(authority_id)]))
            units.append(self._doc("unit", authority_id, self._unit(authority_id), "GpUnit",
                                   name=_text(authority), gpUnitType="municipality",
                                   partOfUnit=self._unit(district)))
            contest_iri = self.naming.iri("elections", "contest", f"{election_id}-{cid}")
            totals = contest.find(f"{EML}TotalVotes")
            if totals is None:
                raise EmlError(f"{name}: contest {cid} has no TotalVotes")
            selections = self._selections(totals, contest_iri, parties)
            stations = []
            results.append(self._result(totals, contest_iri, cid, authority_id, name))
            for unit_votes in contest.findall(f"{EML}ReportingUnitVotes"):
                ru = unit_votes.find(f"{EML}ReportingUnitIdentifier")
                ru_id = ru.get("Id") if ru is not None else None
                if not ru_id:
                    raise EmlError(f"{name}: ReportingUnitVotes without an identifier")
                stations.append(self._unit(ru_id))
                units.append(self._doc("unit", ru_id, self._unit(ru_id), "PollingStation",
                                       name=_text(ru), gpUnitType="polling-place",
                                       partOfUnit=self._unit(authority_id)))
                results.append(self._result(unit_votes, contest_iri, cid, ru_id, name))
            units[1].doc["composingUnits"] = stations
            contest_docs.append(self._doc(
                "contest", f"{election_id}-{cid}", contest_iri, "CandidateContest",
                title={"nl": _text(cid_el.find(f"{EML}ContestName")) if cid_el is not None
                       else cid},
                election=self.naming.iri("elections", "election", election_id),
                electoralDistrict=self._unit(district), selections=selections))
        docs += units + list(parties.values()) + contest_docs
        date = _text(ident_el.find(f"{KR}ElectionDate"))
        docs.append(self._doc(
            "election", election_id, self.naming.iri("elections", "election", election_id),
            "Election", title={"nl": _text(ident_el.find(f"{EML}ElectionName"))},
            electionType=_text(ident_el.find(f"{EML}ElectionCategory")) or None,
            startDate=date or None, endDate=date or None,
            electionScope=units[0].iri, contests=[d.iri for d in contest_docs]))
        self.notes.append("UncountedVotes (admission figures) and TotalCounted: not mapped")
        return docs + results

    def candidate_list(self, root: Element) -> list[Document]:
        """A 230 list: each list a Party, each candidate a Candidate named as on the
        ballot, at the IRI a 510 count of the same slug names it by. Gender and place
        of residence are personal data the results do not need: dropped."""
        lists = root.findall(f"{EML}CandidateList/{EML}Election/{EML}Contest/{EML}Affiliation")
        if not lists:
            raise EmlError(f"{self.file}: no CandidateList/Election/Contest/Affiliation")
        docs: list[Document] = []
        for affiliation in lists:
            aff = affiliation.find(f"{EML}AffiliationIdentifier")
            party = (aff.get("Id") if aff is not None else None) or ""
            if aff is None or not party:
                raise EmlError(f"{self.file}: an Affiliation without an identifier")
            party_iri = self.naming.iri("organisations", "party", party)
            docs.append(self._doc("party", party, party_iri, "Party",
                                  name=_text(aff.find(f"{EML}RegisteredName")) or party))
            for cand in affiliation.findall(f"{EML}Candidate"):
                ident = cand.find(f"{EML}CandidateIdentifier")
                pos = (ident.get("Id") if ident is not None else None) or ""
                person = cand.find(f"{EML}CandidateFullName/{XNL}PersonName")
                parts = [_text(person.find(f"{XNL}{tag}")) if person is not None else ""
                         for tag in ("NameLine", "NamePrefix", "LastName")]
                ballot = " ".join(p for p in parts if p) or f"{party}-{pos}"
                key = f"{party}-{pos}"
                docs.append(self._doc("candidate", key,
                                      self.naming.iri("elections", "candidate", key),
                                      "Candidate", ballotName={"nl": ballot}, party=party_iri))
        self.notes.append("Gender and QualifyingAddress (personal data): not mapped")
        return docs

    def _selections(self, totals: Element, contest: str,
                    parties: dict[str, Document]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        party = ""
        for sel in totals.findall(f"{EML}Selection"):
            aff = sel.find(f"{EML}AffiliationIdentifier")
            if aff is not None:
                party = aff.get("Id") or ""
                iri = self.naming.iri("organisations", "party", party)
                parties.setdefault(party, self._doc(
                    "party", party, iri, "Party",
                    name=_text(aff.find(f"{EML}RegisteredName")) or party))
                out.append({"id": f"{contest}#list-{party}", "type": "PartySelection",
                            "party": iri})
                continue
            cand = sel.find(f"{EML}Candidate/{EML}CandidateIdentifier")
            if cand is not None:
                pos = cand.get("Id") or ""
                out.append({"id": f"{contest}#list-{party}-candidate-{pos}",
                            "type": "CandidateSelection",
                            "candidates": self.naming.iri("elections", "candidate",
                                                          f"{party}-{pos}"),
                            "party": self.naming.iri("organisations", "party", party)})
        return out

    def _result(self, votes: Element, contest: str, cid: str, unit: str,
                name: str) -> Document:
        counts = []
        party, list_total, candidates_sum = "", 0, 0

        def close_list() -> None:
            if party and candidates_sum != list_total:
                self.findings.append(Finding(ERROR, "list-does-not-add-up", (
                    f"{name}: in {unit}, list {party} has {list_total:,} votes but its "
                    f"candidates add up to {candidates_sum:,}"), (self._unit(unit),)))

        for sel in votes.findall(f"{EML}Selection"):
            count = _int(sel.find(f"{EML}ValidVotes"), "ValidVotes", name) or 0
            aff = sel.find(f"{EML}AffiliationIdentifier")
            if aff is not None:
                close_list()
                party, list_total, candidates_sum = aff.get("Id") or "", count, 0
                selection = f"{contest}#list-{party}"
            else:
                cand = sel.find(f"{EML}Candidate/{EML}CandidateIdentifier")
                pos = cand.get("Id") if cand is not None else ""
                candidates_sum += count
                selection = f"{contest}#list-{party}-candidate-{pos}"
            counts.append({"type": "VoteCount", "selection": selection, "countType": "total",
                           "count": count})
        close_list()
        rejected = {r.get("ReasonCode"): _int(r, "RejectedVotes", name)
                    for r in votes.findall(f"{EML}RejectedVotes")}
        return self._doc(
            "result", f"{cid}/{unit}", self.naming.iri("results", "result", f"{cid}-{unit}"),
            "ContestResult", contest=contest, reportingUnit=self._unit(unit),
            resultsStatus=self.status, sequence=1,
            ballotsCast=_int(votes.find(f"{EML}Cast"), "Cast", name),
            blankBallots=rejected.get("blanco"), invalidBallots=rejected.get("ongeldig"),
            voteCounts=counts)
