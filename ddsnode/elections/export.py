"""An election as NIST SP 1500-100 v2 JSON (checked against NIST's schema) or as CSV.

NIST ids (``@id``) are the source identifiers the import kept (``identifier``), else the
last segment of the IRI, so a NIST file imported, exported and imported again names
the same resources. The JSON is validated against NIST's own JSON schema
(``nist_v2_schema.json``, copied unchanged from usnistgov/ElectionResultsReporting)
before it is returned: a file the node publishes is one NIST's tools accept.

The CSV follows OpenElections (county, precinct, office, district, party, candidate,
votes, then one column per count type present); a cell that a spreadsheet would run as
a formula is escaped (OWASP "CSV Injection", :func:`ddsnode.store.results.spreadsheet_safe`).
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from ddsnode import __version__
from ddsnode.clock import stamp
from ddsnode.elections.documents import NIST_COUNT_TYPES, NIST_STATUSES
from ddsnode.elections.model import ElectionModel, Unit, current
from ddsnode.store.results import spreadsheet_safe

Json = dict[str, Any]
SCHEMA_FILE = Path(__file__).with_name("nist_v2_schema.json")
UNIT_TYPES = frozenset((
    "ballot-batch", "ballot-style-area", "borough", "city", "city-council",
    "combined-precinct", "congressional", "country", "county", "county-council", "drop-box",
    "judicial", "municipality", "other", "polling-place", "precinct", "school", "special",
    "split-precinct", "state", "state-house", "state-senate", "town", "township", "utility",
    "village", "vote-center", "ward", "water"))
ELECTION_TYPES = frozenset(("general", "other", "partisan-primary-closed",
                            "partisan-primary-open", "primary", "runoff", "special"))
# Our count types as OpenElections-style column names, in column order.
CSV_COLUMNS = {"electionDay": "election_day", "early": "early", "absentee": "absentee",
               "absenteeMail": "absentee_by_mail", "absenteeInPerson": "absentee_in_person",
               "provisional": "provisional", "writeIn": "write_in", "uocava": "uocava",
               "other": "other"}


class ExportInvalid(ValueError):
    """The NIST JSON built does not validate against NIST's schema (a bug: say so)."""


@cache
def nist_schema() -> Json:
    """NIST's JSON schema of the v2 Election Results CDF."""
    schema: Json = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def schema_errors(report: Json) -> list[str]:
    """Every place where ``report`` breaks NIST's schema (empty: valid)."""
    import jsonschema
    validator = jsonschema.Draft4Validator(nist_schema(), format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(report)]


def _itext(texts: dict[str, str]) -> Json:
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": text,
                      "Language": lang} for lang, text in sorted(texts.items())]}


def _name(text: str) -> Json:
    return _itext({"und": text})


def _typed(value: str, allowed: frozenset[str]) -> Json:
    """``Type`` (and ``OtherType`` when ``value`` is not one of NIST's)."""
    return {"Type": value} if value in allowed else {"Type": "other", "OtherType": value}


def _unit(u: Unit, ids: dict[str, str]) -> Json:
    out: Json = {"@id": ids[u.iri], "@type": "ElectionResults.ReportingUnit",
                 "Name": _name(u.name or u.ident), **_typed(u.kind, UNIT_TYPES)}
    if u.children:
        out["ComposingGpUnitIds"] = [ids[c] for c in sorted(u.children)]
    if u.ocd_id:
        out["ExternalIdentifier"] = [{"@type": "ElectionResults.ExternalIdentifier",
                                      "Type": "ocd-id", "Value": u.ocd_id}]
    if u.registered is not None:
        out["VotersRegistered"] = u.registered
    return out


def nist_report(m: ElectionModel, *, issuer: str = "ddsnode") -> Json:
    """The election as a NIST ElectionReport (a dict)."""
    ids: dict[str, str] = {}

    def ident(iri: str, preferred: str) -> str:
        if iri not in ids:
            taken = set(ids.values())
            name, n = preferred, 1
            while name in taken:  # identifiers are per kind in some sources: keep unique
                n += 1
                name = f"{preferred}-{n}"
            ids[iri] = name
        return ids[iri]

    for u in m.units.values():
        ident(u.iri, u.ident)
    for iri, (pid, _, _) in m.parties.items():
        ident(iri, pid)
    for iri, (oid, _, _) in m.offices.items():
        ident(iri, oid)
    for iri, candidacy in m.candidates.items():
        ident(iri, candidacy.ident)
    for iri, (person_id, _) in m.persons.items():
        ident(iri, person_id)
    for c in m.contests:
        ident(c.iri, c.ident)
        for s in c.selections:
            ident(s.iri, s.ident)

    used_candidates = {cand for c in m.contests for s in c.selections for cand in s.candidates}
    used_parties = {p for c in m.contests for s in c.selections for p in s.parties} | \
        {p for c in used_candidates if c in m.candidates and (p := m.candidates[c].party)}
    used_offices = {o for c in m.contests for o in c.offices}
    by_contest: dict[str, dict[str, list[Json]]] = {}
    ballots: list[Json] = []
    # A NIST report is one publication: the current one (highest sequence) of each
    # contest and unit; earlier ones stay on the node.
    published = sorted(current(m.results).values(), key=lambda r: (r.contest, r.figures.unit))
    for r in published:
        unit = r.figures.unit
        if unit not in ids:
            continue
        per_sel = by_contest.setdefault(r.contest, {})
        # A ranked-choice result: every round, each count with its Round (the result's
        # own counts are the last round's, so they are not written twice).
        tallies: list[tuple[int | None, dict[tuple[str, str], int]]] = \
            [(n, counts) for n, counts in sorted(r.rounds.items())] or \
            [(None, r.figures.counts)]
        for number, round_counts in tallies:
            for (sel, ctype), count in sorted(round_counts.items()):
                vote: Json = {"@type": "ElectionResults.VoteCounts", "Count": count,
                              "GpUnitId": ids[unit], "Type": NIST_COUNT_TYPES.get(ctype, "other")}
                if number is not None:
                    vote["Round"] = number
                per_sel.setdefault(sel, []).append(vote)
        if r.figures.cast is not None:
            tally: Json = {"@type": "ElectionResults.BallotCounts", "GpUnitId": ids[unit],
                           "Type": "total", "BallotsCast": r.figures.cast}
            if r.figures.invalid is not None:
                tally["BallotsRejected"] = r.figures.invalid
            if tally not in ballots:
                ballots.append(tally)

    contests = []
    for c in m.contests:
        selections = []
        for s in c.selections:
            item: Json = {"@id": ids[s.iri], "@type": f"ElectionResults.{s.kind}"}
            if s.kind == "CandidateSelection":
                if s.candidates:
                    item["CandidateIds"] = [ids[x] for x in s.candidates if x in ids]
                if s.parties:
                    item["EndorsementPartyIds"] = [ids[x] for x in s.parties if x in ids]
            elif s.kind == "PartySelection":
                item["PartyIds"] = [ids[x] for x in s.parties if x in ids]
            else:
                item["Selection"] = _itext(s.text or {"und": s.ident})
            counts = by_contest.get(c.iri, {}).get(s.iri)
            if counts:
                item["VoteCounts"] = counts
            selections.append(item)
        contest: Json = {"@id": ids[c.iri], "@type": f"ElectionResults.{c.kind}",
                         "Name": c.name or next(iter(c.title.values()), c.ident),
                         "ElectionDistrictId": ids.get(c.district or "", ""),
                         "ContestSelection": selections}
        if c.title:
            contest["BallotTitle"] = _itext(c.title)
        if c.kind == "CandidateContest":
            contest["VotesAllowed"] = c.votes_allowed if c.votes_allowed is not None else 1
            if c.number_elected is not None:
                contest["NumberElected"] = c.number_elected
            if c.offices:
                contest["OfficeIds"] = [ids[o] for o in c.offices if o in ids]
        elif c.full_text:
            contest["FullText"] = _itext(c.full_text)
        contests.append(contest)

    election: Json = {"@type": "ElectionResults.Election",
                      "Name": _itext(m.title or {"und": m.ident}),
                      "StartDate": m.start, "EndDate": m.end or m.start,
                      "ElectionScopeId": ids.get(m.scope or "", ""),
                      **_typed(m.kind, ELECTION_TYPES), "Contest": contests}
    candidates = []
    for iri in sorted(used_candidates):
        if iri not in m.candidates:
            continue
        candidacy = m.candidates[iri]
        cand: Json = {"@id": ids[iri], "@type": "ElectionResults.Candidate",
                      "BallotName": _itext(candidacy.names or {"und": ids[iri]})}
        if candidacy.party and candidacy.party in ids:
            cand["PartyId"] = ids[candidacy.party]
        if candidacy.status:
            cand["PostElectionStatus"] = candidacy.status
        if candidacy.person and candidacy.person in m.persons:
            cand["PersonId"] = ids[candidacy.person]
        candidates.append(cand)
    if candidates:
        election["Candidate"] = candidates
    if ballots:
        election["BallotCounts"] = ballots

    statuses = [r.status for r in published if r.status]
    sequences = [r.sequence for r in published if r.sequence is not None]
    dates = sorted(r.reported for r in published if r.reported)
    precinct = any(m.units[r.figures.unit].kind in ("precinct", "polling-place")
                   for r in m.results if r.figures.unit in m.units)
    report: Json = {
        "@type": "ElectionResults.ElectionReport",
        "Format": "precinct-level" if precinct else "summary-contest",
        "GeneratedDate": _zoned(dates[-1]) if dates else
        stamp(),
        "Issuer": issuer, "IssuerAbbreviation": issuer[:16],
        "SequenceStart": min(sequences) if sequences else 1,
        "SequenceEnd": max(sequences) if sequences else 1,
        "Status": NIST_STATUSES.get(_latest_status(statuses), "pre-election"),
        "VendorApplicationId": f"ddsnode {__version__}",
        "Election": [election],
        "GpUnit": [_unit(u, ids) for u in sorted(m.units.values(), key=lambda u: u.iri)],
    }
    parties = [{"@id": ids[p], "@type": "ElectionResults.Party", "Name": _name(name or pid),
                **({"Abbreviation": _name(abbr)} if abbr else {})}
               for p, (pid, name, abbr) in sorted(m.parties.items()) if p in used_parties]
    if parties:
        report["Party"] = parties
    offices = [{"@id": ids[o], "@type": "ElectionResults.Office", "Name": _name(name or oid),
                **({"ElectionDistrictId": ids[d]} if d and d in ids else {})}
               for o, (oid, name, d) in sorted(m.offices.items()) if o in used_offices]
    if offices:
        report["Office"] = offices
    # Persons by name only (NIST FullName): what the node holds of them (docs/elections.md).
    standing = {c.person for i, c in m.candidates.items() if i in used_candidates and c.person}
    persons = [{"@id": ids[p], "@type": "ElectionResults.Person", "FullName": _name(name)}
               for p, (_, name) in sorted(m.persons.items()) if p in standing and name]
    if persons:
        report["Person"] = persons
    return report


def _zoned(value: str) -> str:
    """An xsd:dateTime as NIST's DateTimeWithZone (seconds, no fraction)."""
    return value[:19] + value[19:].split(".", 1)[-1].lstrip("0123456789") \
        if "." in value[19:] else value


def _latest_status(statuses: list[str]) -> str:
    """The least final status among the results (a report is only as final as its parts)."""
    order = ["preElection", "unofficialPartial", "unofficialComplete", "recount",
             "correction", "certified"]
    known = [s for s in statuses if s in order]
    return min(known, key=order.index) if known else "preElection"


def nist_json(m: ElectionModel, *, issuer: str = "ddsnode") -> str:
    """The NIST report as JSON text; ExportInvalid when NIST's schema refuses it."""
    report = nist_report(m, issuer=issuer)
    errors = schema_errors(report)
    if errors:
        raise ExportInvalid("the NIST export does not validate against NIST's schema: "
                            + "; ".join(errors[:5]))
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def csv_text(m: ElectionModel) -> str:
    """The results as OpenElections-style CSV, a row per result and selection."""
    used = sorted({ctype for r in m.results for (_, ctype) in r.figures.counts
                   if ctype != "total"}, key=lambda t: list(CSV_COLUMNS).index(t)
                  if t in CSV_COLUMNS else 99)
    header = ["county", "precinct", "office", "district", "party", "candidate", "votes",
              *[CSV_COLUMNS.get(t, t) for t in used]]
    contests = {c.iri: c for c in m.contests}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in sorted(current(m.results).values(), key=lambda r: (r.contest, r.figures.unit)):
        contest = contests[r.contest]
        unit = m.units.get(r.figures.unit)
        parent = m.units.get(unit.parent) if unit and unit.parent else None
        district = m.units.get(contest.district or "")
        office = contest.title.get("en") or next(iter(contest.title.values()), contest.name)
        totals = r.figures.totals()
        for s in contest.selections:
            if s.iri not in totals:
                continue
            party, candidate = _who(m, s)
            parts = [r.figures.counts.get((s.iri, t), "") for t in used]
            row = [parent.name if parent else "", unit.name if unit else r.figures.unit,
                   office, district.name if district else "", party, candidate,
                   totals[s.iri], *parts]
            writer.writerow([spreadsheet_safe(str(v)) for v in row])
    return out.getvalue()


def _who(m: ElectionModel, s: Any) -> tuple[str, str]:
    """(party, candidate) of a selection, as a CSV names them."""
    names = [next(iter(m.candidates[c].names.values()), "") for c in s.candidates
             if c in m.candidates]
    parties = list(s.parties) or [p for c in s.candidates
                                  if c in m.candidates and (p := m.candidates[c].party)]
    party = ""
    for p in parties:
        if p in m.parties:
            _, name, abbr = m.parties[p]
            party = abbr or name
            break
    if names:
        return party, " / ".join(names)
    return party, next(iter(s.text.values()), s.ident)
