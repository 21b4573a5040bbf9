"""OpenElections precinct CSV -> documents, with OpenElections' own data checks.

A file is named ``YYYYMMDD__state__[party__]type[__special][__office]__level.csv``; its
columns vary by state: ``county``, ``precinct``, ``office``, ``district``, ``party``,
``candidate``, ``votes`` and vote-type columns (``election_day``, ``early``/``advanced``,
``absentee``, ``mail``, ``provisional``, with or without a ``_votes`` suffix). Headers
are matched case-insensitively with spaces as underscores.

The checks OpenElections runs on its data (openelections-data-* ``tests/``), reported as
findings: no duplicate rows, votes are integers, the vote-type columns add up to the
``votes`` column, offices are ones OpenElections knows. A result (one contest in one
precinct) is written whole or not at all: a row of it whose votes are not an integer or
do not add up, or two rows that give one candidate different votes, keep the whole
result out (rejected, with the file and line); an exact duplicate row is ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ddsnode.elections.documents import Document, Naming, document, slugify
from ddsnode.elections.importer import Reject
from ddsnode.elections.plausibility import ERROR, WARNING, Finding
from ddsnode.elections.sources import SourceFile

FILE_NAME = re.compile(r"^(?P<date>\d{8})__(?P<state>[a-z]{2})__(?P<rest>.+?)\.csv$")
ELECTION_TYPES = ("runoff", "special", "primary", "general")
# Offices OpenElections standardises (openelections-core, "Office names"), plus the
# judicial and county offices its state repositories publish.
KNOWN_OFFICES = frozenset(o.lower() for o in (
    "President", "U.S. Senate", "U.S. House", "Governor", "Lieutenant Governor",
    "Secretary of State", "Attorney General", "State Treasurer", "State Auditor",
    "State Senate", "State House", "State Assembly", "Executive Council", "Comptroller",
    "Superintendent of Public Instruction", "Insurance Commissioner",
    "Agriculture Commissioner", "Labor Commissioner", "Public Service Commission",
    "Supreme Court", "Court of Appeals", "Superior Court Judge", "District Attorney",
    "Registered Voters", "Ballots Cast", "Straight Party"))
ALIASES = {"votes": "votes", "total_votes": "votes", "total": "votes", "vote": "votes",
           "county": "county", "parish": "county", "precinct": "precinct",
           "office": "office", "district": "district", "party": "party",
           "candidate": "candidate"}
VOTE_TYPES = (
    (re.compile(r"^(election_day|eday|polling_place)(_votes)?$"), "electionDay"),
    (re.compile(r"^(early|advance|advanced|early_voting|one_stop)(_votes)?$"), "early"),
    (re.compile(r"^(absentee_by_mail|mail|mail_in|absentee_mail)(_votes)?$"), "absenteeMail"),
    (re.compile(r"^absentee(_votes)?$"), "absentee"),
    (re.compile(r"^provisional(_votes)?$"), "provisional"),
)
UNIT_TYPES = {"state house": "state-house", "state senate": "state-senate",
              "u.s. house": "congressional"}


class OpenElectionsError(ValueError):
    """The file cannot be imported at all (no header, a required column missing ...)."""


@dataclass
class Row:
    """One data row: its line, the standard cells, and counts by type."""

    line: int
    cells: dict[str, str]
    parts: dict[str, str]  # count type -> raw cell


@dataclass
class Sheet:
    """A CSV read and checked: its naming, rows, vote-type columns and findings."""

    name: str
    date: str
    state: str
    kinds: list[str]
    rows: list[Row] = field(default_factory=list)
    vote_types: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _key(header: str) -> str:
    return re.sub(r"\s+", "_", header.strip().lower())


def read_sheet(source: SourceFile, *, max_rows: int) -> Sheet:
    """Read and check one CSV; OpenElectionsError when it cannot be imported at all."""
    match = FILE_NAME.match(source.name.lower())
    if match is None:
        raise OpenElectionsError(f"{source.name}: not named like an OpenElections file "
                                 "(YYYYMMDD__state__type__level.csv)")
    date = match.group("date")
    sheet = Sheet(source.name, f"{date[:4]}-{date[4:6]}-{date[6:]}", match.group("state"),
                  match.group("rest").split("__"))
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise OpenElectionsError(f"{source.name}: not UTF-8 ({e})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise OpenElectionsError(f"{source.name}: empty file") from None
    except csv.Error as e:
        raise OpenElectionsError(f"{source.name}:1: {e}") from None
    columns: dict[int, str] = {}
    parts: dict[int, str] = {}
    for i, raw in enumerate(header):
        key = _key(raw)
        if key in ALIASES:
            columns[i] = ALIASES[key]
            continue
        for pattern, ctype in VOTE_TYPES:
            if pattern.match(key):
                parts[i] = ctype
                break
    named = set(columns.values())
    missing = [c for c in ("precinct", "office", "candidate") if c not in named]
    if "votes" not in named and not parts:
        missing.append("votes (or vote-type columns)")
    if missing:
        raise OpenElectionsError(f"{source.name}:1: missing column(s): {', '.join(missing)} "
                                 f"(header: {', '.join(header)})")
    sheet.vote_types = sorted(set(parts.values()))
    seen: dict[tuple[str, ...], int] = {}
    try:
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(sheet.rows) >= max_rows:
                raise OpenElectionsError(f"{source.name}: more than elections_max_rows "
                                         f"({max_rows:,}) rows")
            line = reader.line_num
            if len(record) != len(header):
                sheet.findings.append(Finding(ERROR, "broken-line", (
                    f"{source.name}:{line}: {len(record)} cells where the header has "
                    f"{len(header)}; the row is left out")))
                continue
            as_tuple = tuple(c.strip() for c in record)
            if as_tuple in seen:
                sheet.findings.append(Finding(WARNING, "duplicate-row", (
                    f"{source.name}:{line}: the same row as line {seen[as_tuple]}; "
                    "counted once")))
                continue
            seen[as_tuple] = line
            cells = {name: record[i].strip() for i, name in columns.items()}
            sheet.rows.append(Row(line, cells, {t: record[i].strip() for i, t in parts.items()}))
            del number
    except csv.Error as e:
        raise OpenElectionsError(f"{source.name}:{reader.line_num}: {e}") from None
    offices = defaultdict(list)
    for row in sheet.rows:
        offices[row.cells.get("office", "")].append(row.line)
    for office, lines in sorted(offices.items()):
        if office and office.lower() not in KNOWN_OFFICES:
            sheet.findings.append(Finding(WARNING, "unknown-office", (
                f"{source.name}: office {office!r} (lines {_lines(lines)}) is not one of the "
                "offices OpenElections standardises; imported as written")))
    return sheet


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5])
    return shown + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")


class Mapper:
    """Maps a checked sheet to documents."""

    def __init__(self, naming: Naming, digest: str, file: str, lang: str, status: str) -> None:
        self.naming = naming
        self.digest = digest
        self.file = file
        self.lang = lang
        self.status = status
        self.notes: list[str] = []
        self.rejects: list[tuple[str, Reject]] = []

    def _doc(self, kind: str, ident: str, iri: str, type_: str, line: int,
             **terms: Any) -> Document:
        doc = document(iri, type_, identifier=ident, sourceDigest=self.digest, **terms)
        return Document(kind, ident, iri, doc, self.file, line)

    def _unit(self, ident: str) -> str:
        return self.naming.iri("places", "unit", ident)

    def documents(self, sheet: Sheet) -> list[Document]:
        """Places, parties, contests, the election, then the results."""
        state = sheet.state
        units: dict[str, Document] = {}
        children: dict[str, list[str]] = defaultdict(list)

        def unit(ident: str, name: str, kind: str, line: int, parent: str | None,
                 **extra: Any) -> str:
            iri = self._unit(ident)
            if ident not in units:
                units[ident] = self._doc("unit", ident, iri, extra.pop("cls", "GpUnit"), line,
                                         name=name, gpUnitType=kind,
                                         partOfUnit=self._unit(parent) if parent else None,
                                         **extra)
                if parent:
                    children[parent].append(iri)
            return iri

        state_iri = unit(state, state.upper(), "state", 0, None,
                         ocdId=f"ocd-division/country:us/state:{state}")
        parties: dict[str, Document] = {}
        contests: dict[str, dict[str, Any]] = {}
        groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in sheet.rows:
            c = row.cells
            office = c.get("office", "")
            if not office:
                self.rejects.append(("result", Reject(self.file, row.line,
                                                      c.get("candidate", ""),
                                                      "no office: the row belongs to no contest")))
                continue
            county = c.get("county", "")
            parent = state
            if county:
                unit(f"{county}", county, "county", row.line, state)
                parent = county
            precinct_id = f"{county}/{c.get('precinct', '')}" if county else c.get("precinct", "")
            unit(precinct_id, c.get("precinct", "") or "(no precinct)", "precinct", row.line,
                 parent)
            district = c.get("district", "")
            contest_id = f"{office}|{district}" if district else office
            if contest_id not in contests:
                district_iri = state_iri
                if district:
                    district_iri = unit(f"district/{office}/{district}",
                                        f"{office} {district}",
                                        UNIT_TYPES.get(office.lower(), "other"), row.line, state,
                                        cls="ElectoralDistrict")
                contests[contest_id] = {"office": office, "district": district_iri,
                                        "line": row.line, "selections": {}}
            party = c.get("party", "")
            if party and party not in parties:
                parties[party] = self._doc(
                    "party", party, self.naming.iri("organisations", "party", party), "Party",
                    row.line, name=party)
            who = f"{c.get('candidate', '')}|{party}"
            contests[contest_id]["selections"].setdefault(who, (c.get("candidate", ""), party))
            groups[(contest_id, precinct_id)].append(row)
        for ident, d in units.items():
            if ident in children:
                d.doc["composingUnits"] = children[ident]
        election = self.naming.iri("elections", "election", sheet.date)
        contest_docs = [self._contest(ident, info, election) for ident, info in contests.items()]
        results = [r for key, rows in groups.items() if (r := self._result(key, rows, sheet))]
        kinds = [k for k in ELECTION_TYPES if k in sheet.kinds]
        title = f"{state.upper()} {' '.join(k for k in sheet.kinds if k != 'precinct')} " \
                f"election, {sheet.date}"
        head = self._doc("election", sheet.date, election, "Election", 0,
                         title={self.lang: title},
                         electionType=kinds[0] if kinds else "other",
                         startDate=sheet.date, endDate=sheet.date, electionScope=state_iri,
                         contests=[d.iri for d in contest_docs])
        return [*units.values(), *parties.values(), *contest_docs, head, *results]

    def _selection_iri(self, contest: str, candidate: str, party: str) -> str:
        return f"{contest}#{slugify(candidate + '-' + party if party else candidate)}"

    def _contest(self, ident: str, info: dict[str, Any], election: str) -> Document:
        iri = self.naming.iri("elections", "contest", ident)
        selections = []
        for candidate, party in info["selections"].values():
            sid = self._selection_iri(iri, candidate, party)
            cand: dict[str, Any] = {"id": sid + "-candidate", "type": "Candidate",
                                    "ballotName": {self.lang: candidate or "(no name)"}}
            if party:
                cand["party"] = self.naming.iri("organisations", "party", party)
            selections.append({"id": sid, "type": "CandidateSelection", "candidates": cand})
        office = info["office"]
        title = ident.replace("|", " ")
        return self._doc("contest", ident, iri, "CandidateContest", info["line"],
                         title={self.lang: title}, name=office, election=election,
                         electoralDistrict=info["district"],
                         office={"id": iri + "#office", "type": "Office", "name": office},
                         selections=selections)

    def _result(self, key: tuple[str, str], rows: list[Row], sheet: Sheet) -> Document | None:
        contest_id, precinct_id = key
        contest = self.naming.iri("elections", "contest", contest_id)
        counts: dict[tuple[str, str], int] = {}
        problems: list[str] = []
        for row in rows:
            c = row.cells
            sel = self._selection_iri(contest, c.get("candidate", ""), c.get("party", ""))
            parts: dict[str, int] = {}
            for ctype, raw in row.parts.items():
                if raw == "":
                    continue
                if not re.fullmatch(r"\d+", raw):
                    problems.append(f"line {row.line}: {ctype} votes {raw!r} is not a "
                                    "whole number")
                    continue
                parts[ctype] = int(raw)
            raw_total = c.get("votes")
            total: int | None = None
            if raw_total is not None:
                if not re.fullmatch(r"\d+", raw_total):
                    problems.append(f"line {row.line}: votes {raw_total!r} is not a whole number")
                    continue
                total = int(raw_total)
                if parts and sum(parts.values()) != total and len(parts) == len(row.parts):
                    problems.append(f"line {row.line}: the vote-type columns add up to "
                                    f"{sum(parts.values()):,}, not to the {total:,} votes")
            elif parts:
                total = sum(parts.values())  # no votes column: the total is the parts' sum
            if total is None:
                problems.append(f"line {row.line}: no votes")
                continue
            for ctype, count in [("total", total), *parts.items()]:
                if (sel, ctype) in counts and counts[(sel, ctype)] != count:
                    problems.append(f"line {row.line}: another row gives {c.get('candidate')} "
                                    f"{counts[(sel, ctype)]:,} {ctype} votes, this one {count:,}")
                counts[(sel, ctype)] = count
        ident = f"{contest_id}|{precinct_id}"
        if problems:
            reason = "result not imported: " + "; ".join(problems[:5])
            self.rejects.append(("result", Reject(self.file, rows[0].line, ident, reason)))
            sheet.findings.append(Finding(ERROR, "result-refused", f"{self.file}: {ident}: "
                                          + "; ".join(problems[:5])))
            return None
        return self._doc(
            "result", ident, self.naming.iri("results", "result", f"{contest_id}-{precinct_id}"),
            "ContestResult", rows[0].line, contest=contest,
            reportingUnit=self._unit(precinct_id), resultsStatus=self.status, sequence=1,
            voteCounts=[{"type": "VoteCount", "selection": s, "countType": t, "count": n}
                        for (s, t), n in sorted(counts.items())])
