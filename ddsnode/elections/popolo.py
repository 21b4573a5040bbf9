"""Popolo persons, organizations and memberships (JSON) -> documents (issue 14).

Popolo (https://www.popoloproject.com/, popolo-spec) publishes people and the bodies
they belong to. A file is either a collection (``{"persons": [...], "organizations":
[...], "memberships": [...]}``, as EveryPolitician and Popolo's own examples write it), a
list of objects, or one object; embedded objects (a person's ``memberships``, a
membership's ``person`` and ``organization``, a post's ``organization``) are read too.

What maps to what (docs/elections.md has the table): a ``Person`` becomes a
``foaf:Person`` with its ``name``; an ``Organization`` a ``Party`` when its
``classification`` says party, else an ``org:Organization``; a ``Membership`` an
``org:Membership`` (``memberAgent``, ``organization``, ``roleName``, ``startDate``,
``endDate``). Organizations are named ``{base}organisations/{slug}-organization-{id}``,
apart from a NIST file's parties. Persons are named ``{base}organisations/{slug}-person-{id}``: the IRI a NIST
import of the same slug gives ``Candidate.PersonId`` (``dds:person``), so importing the
authority's Popolo file under the NIST file's slug links its candidates to persons.

Personal data the results do not need is not imported, and the report says so: e-mail,
contact details, gender, birth and death dates, photos, biographies, national identity,
other names and identifiers such as a social insurance number. An ``Area`` becomes a
``GpUnit`` in ``places/`` (its OCD identifier, its classification as a unit kind). Posts,
events, motions and votes are noted and skipped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ddsnode.elections.documents import Document, Naming, document

Json = dict[str, Any]
PARTY = re.compile(r"\bpart(y|ies|i|ido|it)\b", re.IGNORECASE)
DATE = re.compile(r"^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
# Popolo fields that describe a person beyond the name: personal data, not imported.
PERSONAL = ("email", "contact_details", "gender", "birth_date", "death_date", "image",
            "summary", "biography", "national_identity", "other_names", "identifiers",
            "links", "family_name", "given_name", "additional_name", "honorific_prefix",
            "honorific_suffix", "patronymic_name", "sort_name", "sources")
SKIPPED = ("posts", "events", "motions", "vote_events", "speeches", "votes",
           "counts")


class PopoloError(ValueError):
    """The file is not Popolo JSON this importer can read."""


def read_popolo(data: bytes, name: str, max_items: int) -> dict[str, list[Json]]:
    """Persons, organizations and memberships of a Popolo file, embedded ones pulled out."""
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise PopoloError(f"{name}: not JSON ({str(e)[:200]})") from None
    collection = _Collection(name, max_items)
    try:
        _collect(collection, parsed, name)
    except RecursionError:  # objects embedded in objects deeper than Python recurses
        raise PopoloError(f"{name}: objects embedded too deeply") from None
    if not any(collection.items.values()):
        raise PopoloError(f"{name}: no Popolo person, organization, membership or area")
    return {**collection.items, "skipped": [{"name": s} for s in collection.skipped]}


def _collect(collection: _Collection, parsed: Any, name: str) -> None:
    """Every object of ``parsed`` into ``collection``, by kind."""
    # A collection has lists of persons ...; an object with an id is one Popolo object
    # (a person embedding its "memberships", say).
    if isinstance(parsed, dict) and "id" not in parsed and any(
            k in parsed for k in ("persons", "organizations", "memberships", "areas")):
        for key, kind in (("persons", "person"), ("organizations", "organization"),
                          ("memberships", "membership"), ("areas", "area")):
            for item in _objects(parsed.get(key), name, key):
                collection.add(kind, item, {})
        collection.skipped += [k for k in SKIPPED if parsed.get(k)]
    elif isinstance(parsed, (dict, list)):
        for item in _objects(parsed, name, "(top level)"):
            collection.add(_kind(item), item, {})
    else:
        raise PopoloError(f"{name}: a Popolo file is a JSON object or a list of objects")


def _objects(value: Any, name: str, where: str) -> list[Json]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, dict) for i in items):
        raise PopoloError(f"{name}: {where}: every item must be a JSON object")
    return items


def _kind(item: Json) -> str:
    """What a lone Popolo object is, by the fields its schema gives it."""
    if any(k in item for k in ("person_id", "person", "member")) and "name" not in item:
        return "membership"
    if "label" in item and "name" not in item:
        return "post"  # a Post has a label and an organization, no person
    if "organization_id" in item and "name" not in item:
        return "membership"
    if isinstance(item.get("identifier"), str) or "geometry" in item:
        return "area"  # an Area has one identifier string; others have an array
    if any(k in item for k in ("classification", "founding_date", "dissolution_date",
                               "parent_id", "posts")) or \
            any("person_id" in m for m in item.get("memberships") or [] if isinstance(m, dict)):
        return "organization"
    return "person"


class _Collection:
    """Objects by kind, embedded ones flattened, with a bound on how many."""

    def __init__(self, name: str, max_items: int) -> None:
        self.name = name
        self.max_items = max_items
        self.count = 0
        self.items: dict[str, list[Json]] = {"person": [], "organization": [], "membership": [],
                                             "area": []}
        self.skipped: list[str] = []

    def add(self, kind: str, item: Json, implied: Json) -> None:
        self.count += 1
        if self.count > self.max_items:
            raise PopoloError(f"{self.name}: more than elections_max_rows "
                              f"({self.max_items:,}) objects")
        if kind not in self.items:
            self.skipped.append(kind + "s")
            if kind == "post" and isinstance(item.get("organization"), dict):
                self.add("organization", item["organization"], {})
                for m in _objects(item.get("memberships"), self.name, "post memberships"):
                    self.add("membership", m, {"organization_id": item["organization"].get("id"),
                                               "post_id": item.get("id")})
            return
        item = {**implied, **item}
        if kind == "membership":
            for key in ("person", "organization"):
                if isinstance(item.get(key), dict):
                    self.add(key, item[key], {})
                    item.setdefault(f"{key}_id", item[key].get("id"))
        elif kind != "area":
            own = "person_id" if kind == "person" else "organization_id"
            for m in _objects(item.get("memberships"), self.name, f"{kind} memberships"):
                self.add("membership", m, {own: item.get("id")})
            if item.get("posts"):
                self.skipped.append("posts")
        self.items[kind].append(item)


def _ident(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) \
        else ""


def _date(value: Any) -> Json | None:
    """A Popolo date (``1970``, ``1970-01``, ``1970-01-31``) as a typed JSON-LD value."""
    text = _ident(value)
    match = DATE.match(text)
    if not match:
        return None
    datatype = "xsd:date" if match.group(4) else "xsd:gYearMonth" if match.group(2) \
        else "xsd:gYear"
    return {"@value": text, "@type": datatype}


class Mapper:
    """Maps one Popolo file to documents, keeping the source's ids as ``identifier``."""

    def __init__(self, naming: Naming, digest: str, file: str) -> None:
        self.naming = naming
        self.digest = digest
        self.file = file
        self.notes: list[str] = []
        self.rejects: list[tuple[str, str, str]] = []  # (kind, id, reason)

    def person_iri(self, ident: str) -> str:
        """Where the person ``ident`` of this source lives (NIST ``PersonId`` too)."""
        return self.naming.iri("organisations", "person", ident)

    def org_iri(self, ident: str) -> str:
        """Where the organization ``ident`` of this source lives."""
        return self.naming.iri("organisations", "organization", ident)

    def _doc(self, kind: str, ident: str, iri: str, type_: str, **terms: Any) -> Document:
        doc = document(iri, type_, identifier=ident, sourceDigest=self.digest, **terms)
        return Document(kind, ident, iri, doc, self.file, 0)

    def documents(self, popolo: dict[str, list[Json]]) -> list[Document]:
        """Persons, organizations, then memberships (each once, the first kept)."""
        for skipped in sorted({s["name"] for s in popolo.get("skipped", [])}):
            self.notes.append(f"{skipped}: not imported (no mapping yet)")
        out: dict[tuple[str, str], Document] = {}
        persons = self._persons(popolo["person"], out)
        orgs = self._organizations(popolo["organization"], out)
        self._areas(popolo.get("area", []), out)
        for m in popolo["membership"]:
            person, org = _ident(m.get("person_id")), _ident(m.get("organization_id"))
            ident = _ident(m.get("id")) or "-".join(
                x for x in (person, org, _ident(m.get("role")), _ident(m.get("start_date"))) if x)
            if not person or not org:
                self.rejects.append(("membership", ident or "?", "a membership needs a "
                                     "person_id and an organization_id (or a post's)"))
                continue
            # A Popolo export may come in several files (persons.json, memberships.json):
            # a person or organization named but not in this file is the one an import of
            # another file under the same slug writes; said in the notes.
            if person not in persons:
                self.notes.append(f"membership {ident}: person {person!r} is not in this file; "
                                  "linked to the IRI an import under the same slug gives it")
            if org not in orgs:
                self.notes.append(f"membership {ident}: organization {org!r} is not in this "
                                  "file; linked to the IRI an import under the same slug gives it")
            role = m.get("role") if isinstance(m.get("role"), str) else None
            doc = self._doc("membership", ident, self.naming.iri("organisations", "membership",
                                                                  ident),
                            "Membership", memberAgent=persons.get(person, self.person_iri(person)),
                            organization=orgs.get(org, self.org_iri(org)),
                            roleName=role or None, startDate=_date(m.get("start_date")),
                            endDate=_date(m.get("end_date")))
            for key in ("start_date", "end_date"):
                if m.get(key) and _date(m.get(key)) is None:
                    self.notes.append(f"membership {ident}: {key} {m.get(key)!r} is not an ISO "
                                      "8601 date, dropped")
            out.setdefault(("membership", ident), doc)
        return list(out.values())

    def _persons(self, items: list[Json], out: dict[tuple[str, str], Document]) -> dict[str, str]:
        found: dict[str, str] = {}
        for p in items:
            ident, name = _ident(p.get("id")), p.get("name")
            if not ident:
                self.rejects.append(("person", str(name or "?")[:80], "a person needs an id"))
                continue
            dropped = sorted(k for k in PERSONAL if p.get(k))
            if dropped:
                self.notes.append("personal data not imported: " + ", ".join(dropped))
            if (("person", ident)) in out:
                found[ident] = out[("person", ident)].iri
                continue
            if not isinstance(name, str) or not name.strip():
                self.rejects.append(("person", ident, "a person needs a name (Popolo)"))
                continue
            doc = self._doc("person", ident, self.person_iri(ident), "Person", name=name.strip())
            out[("person", ident)] = doc
            found[ident] = doc.iri
        return found

    def _organizations(self, items: list[Json],
                       out: dict[tuple[str, str], Document]) -> dict[str, str]:
        found: dict[str, str] = {}
        for o in items:
            ident, name = _ident(o.get("id")), o.get("name")
            if not ident or not isinstance(name, str) or not name.strip():
                self.rejects.append(("organization", ident or "?",
                                     "an organization needs an id and a name"))
                continue
            if ("organization", ident) in out:
                found[ident] = out[("organization", ident)].iri
                continue
            classification = o.get("classification")
            party = isinstance(classification, str) and bool(PARTY.search(classification))
            # Not "{slug}-party-{id}": a NIST file of the same slug writes its parties
            # there, with abbreviations a Popolo organization does not have.
            iri = self.org_iri(ident)
            parent = _ident(o.get("parent_id"))
            if parent:
                self.notes.append(f"organization {ident}: parent_id {parent!r} not imported")
            doc = self._doc("organization", ident, iri, "Party" if party else "Organization",
                            name=name.strip())
            out[("organization", ident)] = doc
            found[ident] = iri
        return found

    def _areas(self, items: list[Json], out: dict[tuple[str, str], Document]) -> None:
        """Popolo areas as units (``GpUnit``): ``classification`` as ``gpUnitType`` when
        it is a word of the unit-kind scheme (else ``other``), an OCD ``identifier`` as
        ``ocdId``, ``parent_id`` as ``partOfUnit``. An area without ``id`` is named by
        its identifier (Popolo's own example has none)."""
        from ddsnode.elections.unit_kinds import unit_kinds
        kinds = unit_kinds()
        for a in items:
            identifier = _ident(a.get("identifier"))
            ident, name = _ident(a.get("id")) or identifier, a.get("name")
            if not ident or not isinstance(name, str) or not name.strip():
                self.rejects.append(("area", ident or "?", "an area needs a name and an id "
                                     "or identifier"))
                continue
            classification = _ident(a.get("classification")).lower()
            if classification and classification not in kinds:
                self.notes.append(f"area classification {classification!r}: not a unit kind, "
                                  "written as other")
            parent = _ident(a.get("parent_id"))
            iri = self.naming.iri("places", "unit", ident)
            out.setdefault(("area", ident), self._doc(
                "area", ident, iri, "GpUnit", name=name.strip(),
                gpUnitType=classification if classification in kinds else "other",
                ocdId=identifier if identifier.startswith("ocd-division/") else None,
                partOfUnit=self.naming.iri("places", "unit", parent) if parent else None))
            if a.get("geometry"):
                self.notes.append("area geometry: not imported")
