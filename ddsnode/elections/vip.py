"""VIP 6.0 feeds (Voting Information Project, US polling places) -> documents and street segments.

A VIP 6.0 file (``vip_spec.xsd``) is a flat list of elements that name each other by
``id`` (IDREF). Mapping (docs/voter.md has the table):

- ``State``, ``Locality``, ``Precinct``: ``GpUnit`` s (``gpUnitType`` ``state``, the
  locality's ``Type``, ``precinct``), each part of the one above (``StateId``,
  ``LocalityId``); VIP ``ElectoralDistrict``: an ``ElectoralDistrict`` whose
  ``composingUnits`` are the precincts listing it (``Precinct.ElectoralDistrictIds``).
- ``PollingLocation``: a ``PollingStation`` with its address (``AddressStructured`` or
  ``AddressLine``), ``LatLng``, opening hours (``HoursOpen`` schedules, one
  ``openingHours`` string per day range, ``YYYY-MM-DD[/YYYY-MM-DD] HH:MM-HH:MM``), the
  facts a voter needs (``dropBox``, ``earlyVoting``, ``directions``) and the units it
  serves (``servesUnit``: the precincts and localities whose ``PollingLocationIds`` name it).
- ``Election``, ``CandidateContest`` / ``BallotMeasureContest`` with their selections,
  ``Candidate`` (``BallotName``, ``PartyId``) and ``Party``: as the NIST importer maps them.
- ``StreetSegment``: not RDF. Address ranges (street, house numbers, odd/even, ZIP) are
  the voter lookup's input (:mod:`ddsnode.voter`), written beside the store as one JSON
  file per feed (``voter-segments/{slug}.json``) after the store has committed.

Dropped, and why: ``SpatialBoundary`` (a reference to a shapefile outside the feed),
``Source``/``Department``/``ElectionAdministration`` contact data (not participation
data), ``BallotStyle`` (the ballots a voter gets follow from the contests' districts).
Parsed like EML: defusedxml, DTDs and entities refused, the file bounded by
``elections_max_source_bytes``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ddsnode import paths
from ddsnode.elections.documents import Document, Naming, document, slugify
from ddsnode.elections.importer import ElectionImport, ElectionImportReport, Progress
from ddsnode.elections.sources import read_source
from ddsnode.files import replace_durably
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings

ODD_EVEN = {"odd": "odd", "even": "even", "both": "both"}


class VipError(ValueError):
    """The file is not a VIP 6.0 feed this importer can read."""


@dataclass(frozen=True)
class Segment:
    """One VIP street segment: a range of house numbers on a street, and its precinct."""

    street: str  # StreetDirection + StreetName + StreetSuffix + AddressDirection, as given
    city: str
    zip: str
    start: int
    end: int
    parity: str  # odd, even or both (VIP OebEnum)
    precinct: str  # the precinct unit's IRI


def parse(data: bytes, name: str) -> Element:
    """The ``VipObject`` root of ``data``; VipError when refused or not VIP 6.0."""
    try:
        # defusedxml has no stubs: fromstring is Any; it returns ElementTree's Element
        root: Element = fromstring(data, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except DefusedXmlException as e:
        raise VipError(f"{name}: refused: the XML declares a DTD or entities "
                       f"({type(e).__name__}); VIP feeds need neither") from None
    except ParseError as e:
        raise VipError(f"{name}: not well-formed XML: {e}") from None
    if root.tag != "VipObject":
        raise VipError(f"{name}: not a VIP feed (root {root.tag!r}, expected VipObject)")
    if root.get("schemaVersion") != "6.0":
        raise VipError(f"{name}: VIP schemaVersion {root.get('schemaVersion')!r}; "
                       f"this importer reads 6.0")
    return root


def _text(element: Element | None, tag: str) -> str:
    child = element.find(tag) if element is not None else None
    return (child.text or "").strip() if child is not None else ""


def _texts(element: Element, tag: str) -> dict[str, str]:
    """An InternationalizedText child as {language: text}."""
    child = element.find(tag)
    if child is None:
        return {}
    return {t.get("language") or "en": (t.text or "").strip()
            for t in child.findall("Text") if (t.text or "").strip()}


def _ids(element: Element, tag: str) -> list[str]:
    return _text(element, tag).split()


def _bool(element: Element, tag: str) -> bool | None:
    value = _text(element, tag).lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


def _int(element: Element, tag: str, name: str) -> int | None:
    value = _text(element, tag)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise VipError(f"{name}: {tag} {value!r} of {element.tag} {element.get('id')!r} "
                       f"is not a whole number") from None


def _hours(element: Element) -> list[str]:
    """``HoursOpen`` schedules as ``openingHours`` strings (one per day range and hours)."""
    out = []
    for schedule in element.findall("Schedule"):
        start, end = _text(schedule, "StartDate"), _text(schedule, "EndDate")
        days = start if not end or end == start else f"{start}/{end}"
        for hours in schedule.findall("Hours"):
            opens, closes = _text(hours, "StartTime")[:5], _text(hours, "EndTime")[:5]
            if opens and closes:
                out.append(f"{days} {opens}-{closes}".strip())
    return out


class Mapper:
    """Maps one VIP 6.0 feed to documents (and its street segments)."""

    def __init__(self, naming: Naming, digest: str, file: str) -> None:
        self.naming = naming
        self.digest = digest
        self.file = file
        self.notes: list[str] = []
        self.segments: list[Segment] = []

    def _doc(self, kind: str, ident: str, iri: str, type_: str, **terms: Any) -> Document:
        doc = document(iri, type_, identifier=ident, sourceDigest=self.digest, **terms)
        return Document(kind, ident, iri, doc, self.file, 0)

    def unit(self, ident: str) -> str:
        """The IRI of the unit (state, locality, precinct, district, station) ``ident``."""
        return self.naming.iri("places", "unit", ident)

    def documents(self, root: Element) -> list[Document]:
        """Units, stations, parties, contests, the election; segments in ``self.segments``."""
        by_tag: dict[str, list[Element]] = {}
        for child in root:
            if not child.get("id") and child.tag not in ("Source",):
                raise VipError(f"{self.file}: a {child.tag} without an id")
            by_tag.setdefault(child.tag, []).append(child)
        hours = {h.get("id"): _hours(h) for h in by_tag.get("HoursOpen", [])}
        serves: dict[str, list[str]] = {}
        for holder in by_tag.get("Locality", []) + by_tag.get("Precinct", []):
            for location in _ids(holder, "PollingLocationIds"):
                serves.setdefault(location, []).append(self.unit(str(holder.get("id"))))
        districts: dict[str, list[str]] = {}
        for precinct in by_tag.get("Precinct", []):
            for district in _ids(precinct, "ElectoralDistrictIds"):
                districts.setdefault(district, []).append(self.unit(str(precinct.get("id"))))
        docs = [self._state(e) for e in by_tag.get("State", [])]
        docs += [self._locality(e) for e in by_tag.get("Locality", [])]
        docs += [self._precinct(e) for e in by_tag.get("Precinct", [])]
        docs += [self._district(e, districts) for e in by_tag.get("ElectoralDistrict", [])]
        docs += [self._station(e, hours, serves) for e in by_tag.get("PollingLocation", [])]
        docs += [self._party(e) for e in by_tag.get("Party", [])]
        docs += [self._candidate(e) for e in by_tag.get("Candidate", [])]
        elections = by_tag.get("Election", [])
        if len(elections) != 1:
            raise VipError(f"{self.file}: {len(elections)} Election elements; VIP 6.0 has one")
        election_iri = self.naming.iri("elections", "election", str(elections[0].get("id")))
        selections = {e.get("id"): e for tag in ("CandidateSelection", "BallotMeasureSelection")
                      for e in by_tag.get(tag, [])}
        contests = [self._contest(e, election_iri, selections)
                    for tag in ("CandidateContest", "BallotMeasureContest")
                    for e in by_tag.get(tag, [])]
        docs += contests
        docs.append(self._election(elections[0], election_iri, by_tag, contests))
        self.segments = [self._segment(e) for e in by_tag.get("StreetSegment", [])]
        if by_tag.get("Precinct") and any(p.find("SpatialBoundary") is not None
                                          for p in by_tag["Precinct"]):
            self.notes.append("Precinct SpatialBoundary (an external shapefile): not mapped")
        return docs

    def _state(self, e: Element) -> Document:
        ident = str(e.get("id"))
        return self._doc("unit", ident, self.unit(ident), "GpUnit", name=_text(e, "Name"),
                         gpUnitType="state")

    def _locality(self, e: Element) -> Document:
        ident = str(e.get("id"))
        state = _text(e, "StateId")
        return self._doc("unit", ident, self.unit(ident), "GpUnit", name=_text(e, "Name"),
                         gpUnitType=_text(e, "Type") or "other",
                         partOfUnit=self.unit(state) if state else None)

    def _precinct(self, e: Element) -> Document:
        ident = str(e.get("id"))
        locality = _text(e, "LocalityId")
        name = _text(e, "Name")
        split = _text(e, "PrecinctSplitName")
        return self._doc("unit", ident, self.unit(ident), "GpUnit",
                         name=f"{name} ({split})" if split else name, gpUnitType="precinct",
                         ocdId=None, partOfUnit=self.unit(locality) if locality else None)

    def _district(self, e: Element, members: dict[str, list[str]]) -> Document:
        ident = str(e.get("id"))
        return self._doc("unit", ident, self.unit(ident), "ElectoralDistrict",
                         name=_text(e, "Name"), gpUnitType=_text(e, "Type") or "other",
                         composingUnits=sorted(members.get(ident, [])))

    def _station(self, e: Element, hours: dict[str | None, list[str]],
                 serves: dict[str, list[str]]) -> Document:
        ident = str(e.get("id"))
        structured = e.find("AddressStructured")
        if structured is not None:
            lines = [_text(structured, t) for t in ("Line1", "Line2", "Line3")]
            city, state, zip_ = (_text(structured, t) for t in ("City", "State", "Zip"))
            full = ", ".join([line for line in lines if line] + [city, f"{state} {zip_}".strip()])
            address = {"type": "Address", "fullAddress": full, "postCode": zip_ or None,
                       "postName": city or None, "countryCode": "US"}
        else:
            full = ", ".join((a.text or "").strip() for a in e.findall("AddressLine"))
            address = {"type": "Address", "fullAddress": full, "countryCode": "US"}
        if not full.strip(", "):
            raise VipError(f"{self.file}: PollingLocation {ident!r} has no address")
        terms: dict[str, Any] = {}
        latlng = e.find("LatLng")
        if latlng is not None:
            try:
                lat, long = float(_text(latlng, "Latitude")), float(_text(latlng, "Longitude"))
            except ValueError:
                raise VipError(f"{self.file}: PollingLocation {ident!r}: LatLng is not two "
                               f"numbers") from None
            if not (-90 <= lat <= 90 and -180 <= long <= 180):
                raise VipError(f"{self.file}: PollingLocation {ident!r}: LatLng out of range")
            terms.update(lat=lat, long=long, wkt=f"POINT({long} {lat})")
        opening = list(hours.get(_text(e, "HoursOpenId"), []))
        legacy = _texts(e, "Hours")  # deprecated in 6.0, still found in feeds
        opening += [text for text in legacy.values() if text not in opening]
        return self._doc(
            "station", ident, self.unit(ident), "PollingStation",
            name=_text(e, "Name") or full, gpUnitType="polling-place",
            address={k: v for k, v in address.items() if v}, openingHours=opening or None,
            servesUnit=sorted(serves.get(ident, [])) or None,
            dropBox=_bool(e, "IsDropBox"), earlyVoting=_bool(e, "IsEarlyVoting"),
            directions=_texts(e, "Directions") or None, **terms)

    def _party(self, e: Element) -> Document:
        ident = str(e.get("id"))
        names = _texts(e, "Name")
        return self._doc("party", ident, self.naming.iri("organisations", "party", ident),
                         "Party", name=names.get("en") or next(iter(names.values()), ident),
                         abbreviation=_text(e, "Abbreviation") or None)

    def _candidate(self, e: Element) -> Document:
        ident = str(e.get("id"))
        party = _text(e, "PartyId")
        return self._doc("candidate", ident, self.naming.iri("elections", "candidate", ident),
                         "Candidate", ballotName=_texts(e, "BallotName") or {"en": ident},
                         party=self.naming.iri("organisations", "party", party)
                         if party else None)

    def _contest(self, e: Element, election: str,
                 selections: dict[str | None, Element]) -> Document:
        ident = str(e.get("id"))
        iri = self.naming.iri("elections", "contest", ident)
        measure = e.tag == "BallotMeasureContest"
        items: list[dict[str, Any]] = []
        for sid in _ids(e, "BallotSelectionIds"):
            sel = selections.get(sid)
            if sel is None:
                self.notes.append(f"contest {ident}: selection {sid} not in the feed")
                continue
            item: dict[str, Any] = {"id": f"{iri}#{slugify(sid)}"}
            if sel.tag == "BallotMeasureSelection":
                item.update(type="BallotMeasureSelection", selectionText=_texts(sel, "Selection"))
            else:
                item.update(type="CandidateSelection", candidates=[
                    self.naming.iri("elections", "candidate", c) for c in _ids(sel, "CandidateIds")])
            items.append(item)
        title = _texts(e, "BallotTitle") or {"en": _text(e, "Name") or ident}
        district = _text(e, "ElectoralDistrictId")
        terms: dict[str, Any] = {}
        if measure:
            terms["fullText"] = _texts(e, "FullText") or None
        else:
            terms.update(numberElected=_int(e, "NumberElected", self.file),
                         votesAllowed=_int(e, "VotesAllowed", self.file))
        return self._doc("contest", ident, iri,
                         "BallotMeasureContest" if measure else "CandidateContest",
                         title=title, name=_text(e, "Name") or None, election=election,
                         electoralDistrict=self.unit(district) if district else None,
                         selections=items, **terms)

    def _election(self, e: Element, iri: str, by_tag: dict[str, list[Element]],
                  contests: list[Document]) -> Document:
        date = _text(e, "Date")
        kind = _texts(e, "ElectionType")
        names = _texts(e, "Name")
        state = _text(e, "StateId")
        title = names or {lang: f"{text.title()} election {date}".strip()
                          for lang, text in (kind or {"en": ""}).items()}
        return self._doc("election", str(e.get("id")), iri, "Election", title=title,
                         electionType=(kind.get("en") or "other").lower(),
                         startDate=date or None, endDate=date or None,
                         electionScope=self.unit(state) if state else None,
                         contests=[c.iri for c in contests])

    def _segment(self, e: Element) -> Segment:
        ident = str(e.get("id"))
        precinct = _text(e, "PrecinctId")
        if not precinct:
            raise VipError(f"{self.file}: StreetSegment {ident!r} has no PrecinctId")
        street = " ".join(p for p in (_text(e, "StreetDirection"), _text(e, "StreetName"),
                                      _text(e, "StreetSuffix"), _text(e, "AddressDirection"))
                          if p)
        every = _bool(e, "IncludesAllAddresses") is True
        start = _int(e, "StartHouseNumber", self.file)
        end = _int(e, "EndHouseNumber", self.file)
        parity = ODD_EVEN.get(_text(e, "OddEvenBoth").lower(), "both")
        if every or start is None or end is None:
            start, end, parity = 0, 2**31 - 1, "both"
        return Segment(street, _text(e, "City"), _text(e, "Zip")[:5], min(start, end),
                       max(start, end), parity, self.unit(precinct))


def segments_path(node_dir: Path, slug: str) -> Path:
    """Where the street segments of the feed ``slug`` are kept."""
    return node_dir / paths.VOTER_SEGMENTS_DIR / f"{slug}.json"


def write_segments(node_dir: Path, slug: str, digest: str, segments: list[Segment]) -> None:
    """Replace the feed's segments file whole (written aside, then renamed: never half)."""
    target = segments_path(node_dir, slug)
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_durably(target, json.dumps({"sourceDigest": digest,
                                        "segments": [asdict(s) for s in segments]}
                                       ).encode("utf-8"))


def import_vip(settings: Settings, node_dir: Path, path: Path, *, slug: str | None = None,
               progress: Progress | None = None,
               tombstones: bool = True) -> ElectionImportReport:
    """Import one VIP 6.0 feed into the node at ``node_dir``."""
    source = read_source(path, settings.elections_max_source_bytes)
    slug = slug or source.slug("vip")
    node = Node.open(settings)
    try:
        mapper = Mapper(Naming(node.base, slug), source.digest, source.name)
        docs = mapper.documents(parse(source.data, source.name))
        report = ElectionImportReport(str(path), source.digest, notes=mapper.notes)
        report = ElectionImport(node, node_dir, f"vip:{slug}", report, progress,
                                tombstones=tombstones).run(docs)
    finally:
        node.close()
    # After the store has committed: segments name precincts the store now has.
    write_segments(node_dir, slug, source.digest, mapper.segments)
    if mapper.segments:
        report.notes.append(f"{len(mapper.segments):,} street segments kept for the voter "
                            f"lookup ({segments_path(node_dir, slug).name})")
    return report
