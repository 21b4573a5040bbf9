"""OASIS EML 110a election definitions (Dutch profile, Kiesraad) -> documents.

A 110a defines one election before it is held: its identifier, name, category and date,
its contest (``Contest/ContestIdentifier``, ``geen`` when the whole election is one
contest), the number of seats (``kr:NumberOfSeats``) and the region tree
(``kr:ElectionTree``: ``kr:Region`` with ``RegionNumber``, ``RegionCategory`` and its
superior region). It becomes what a NIST import makes of an election: the ``Election``,
its ``CandidateContest`` (``numberElected`` = the seats, ``votesAllowed`` 1: Dutch
elections are single preferential vote) and the units of the tree with their hierarchy.

IRIs are those a 510 count of the same slug gives the same things, so a definition and
its counts describe one election: the election ``{slug}-election-{Id}``, the contest
``{slug}-contest-{Id}-{contest}``, a municipality ``{slug}-unit-{4-digit CBS code}`` (a
510's ``AuthorityIdentifier``), a kieskring ``{slug}-unit-district-{number}`` (a TK 510's
contest district). Dropped, and noted: ``kr:RegisteredParties`` (appellations without
identifiers; the 230 list names the lists), committees, the nomination date and the
preference threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from ddsnode.elections.documents import Document

if TYPE_CHECKING:
    from ddsnode.elections.eml import Mapper

EML = "{urn:oasis:names:tc:evs:schema:eml}"
KR = "{http://www.kiesraad.nl/extensions}"
#: Kiesraad region categories -> the unit-kind scheme (ontology/schemes/unit-kind.ttl).
KINDS = {"GEMEENTE": "municipality", "KIESKRING": "electoral-district",
         "PROVINCIE": "province", "STEMBUREAU": "polling-place", "LAND": "country"}


class DefinitionError(ValueError):
    """The 110a cannot be read (the message names the file and what is missing)."""


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def region_ident(category: str, number: str) -> str:
    """The unit id of a region, as a 510 of the same slug names the same region."""
    if category == "GEMEENTE" and number.isdigit():
        return f"{int(number):04d}"  # CBS municipality code, a 510's AuthorityIdentifier
    if category == "KIESKRING":
        return f"district-{number}"
    return f"{category.lower()}-{number}"


def definition_documents(mapper: Mapper, root: Element) -> list[Document]:
    """The election, its contest and the region tree of one 110a."""
    name = mapper.file
    election = root.find(f"{EML}ElectionEvent/{EML}Election")
    ident_el = election.find(f"{EML}ElectionIdentifier") if election is not None else None
    if election is None or ident_el is None or not ident_el.get("Id"):
        raise DefinitionError(f"{name}: no ElectionEvent/Election/ElectionIdentifier Id")
    election_id = str(ident_el.get("Id"))
    seats_text = _text(election.find(f"{KR}NumberOfSeats"))
    if seats_text and not seats_text.isdigit():
        raise DefinitionError(f"{name}: kr:NumberOfSeats {seats_text!r} is not a whole number")
    regions = election.findall(f"{KR}ElectionTree/{KR}Region")
    if not regions:
        raise DefinitionError(f"{name}: no kr:ElectionTree/kr:Region")
    if len(regions) > mapper.max_items:  # the Netherlands: ~340 municipalities, 20 kieskringen
        raise DefinitionError(f"{name}: more than elections_max_rows ({mapper.max_items:,}) "
                              "regions")

    units: dict[str, Document] = {}
    parents: dict[str, str] = {}
    for region in regions:
        category, number = region.get("RegionCategory", ""), region.get("RegionNumber", "")
        if not category or not number:
            raise DefinitionError(f"{name}: a kr:Region without RegionCategory or RegionNumber")
        ident = region_ident(category, number)
        superior = (region.get("SuperiorRegionCategory"), region.get("SuperiorRegionNumber"))
        if superior[0] and superior[1]:
            parents[ident] = region_ident(superior[0], superior[1])
        units[ident] = mapper._doc(
            "unit", ident, mapper._unit(ident), "GpUnit",
            name=_text(region.find(f"{KR}RegionName")) or ident,
            gpUnitType=KINDS.get(category, category.lower()))
    # The top of the tree is the election's scope and its contest's district.
    tops = [i for i in units if i not in parents or parents[i] not in units]
    scope = tops[0]
    for ident, doc in units.items():
        if ident in parents and parents[ident] in units:
            doc.doc["partOfUnit"] = units[parents[ident]].iri
            units[parents[ident]].doc.setdefault("composingUnits", []).append(doc.iri)
        if ident == scope or doc.doc["gpUnitType"] == "electoral-district":
            doc.doc["type"] = "ElectoralDistrict"

    contest_el = election.find(f"{EML}Contest/{EML}ContestIdentifier")
    cid = (contest_el.get("Id") if contest_el is not None else None) or "geen"
    contest_iri = mapper.naming.iri("elections", "contest", f"{election_id}-{cid}")
    election_iri = mapper.naming.iri("elections", "election", election_id)
    title = _text(ident_el.find(f"{EML}ElectionName")) or election_id
    contest = mapper._doc(
        "contest", f"{election_id}-{cid}", contest_iri, "CandidateContest",
        title={"nl": title if cid == "geen" else _text(contest_el) or cid},
        election=election_iri, electoralDistrict=units[scope].iri,
        numberElected=int(seats_text) if seats_text else None, votesAllowed=1)
    date = _text(ident_el.find(f"{KR}ElectionDate"))
    domain = _text(ident_el.find(f"{KR}ElectionDomain"))
    election_doc = mapper._doc(
        "election", election_id, election_iri, "Election",
        title={"nl": title}, electionType=_text(ident_el.find(f"{EML}ElectionCategory")) or None,
        startDate=date or None, endDate=date or None, electionScope=units[scope].iri,
        contests=[contest_iri], description={"nl": domain} if domain else None)
    parties = election.findall(f"{KR}RegisteredParties/{KR}RegisteredParty")
    if parties:
        mapper.notes.append(f"{len(parties)} kr:RegisteredParties: not mapped (appellations "
                            "without identifiers; import the 230 candidate list)")
    mapper.notes.append("kr:NominationDate, kr:PreferenceThreshold, committees: not mapped")
    return [*units.values(), contest, election_doc]
