"""Unit results as the files of a generation: the snapshot, diffs, JSON-LD, CSV, NIST CDF.

The **snapshot** (``results.json``) is the state: every unit result of the election as a
plain JSON record (the fields of :class:`~ddsnode.elections.reporting.UnitResult`),
sorted by contest and unit, serialised canonically (sorted keys, no spaces). A **diff**
(``diff.json``) holds the records that changed or appeared since the previous generation
and the keys of those that went away; :func:`apply_diff` then :func:`snapshot_bytes`
gives byte for byte the next snapshot, which is how a follower checks it kept up.
The views per contest and reporting level are derived from the same records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ddsnode import __version__
from ddsnode.elections.documents import NIST_STATUSES, STATUSES
from ddsnode.elections.reporting import UnitResult
from ddsnode.store.results import spreadsheet_safe

Json = dict[str, Any]
Key = tuple[str, str]  # (contest IRI, unit IRI)
CONTEXT = "https://w3id.org/dds/context/v1"  # the shared context, as examples/ name it
#: Least final first: a file is only as final as the least final result in it.
STATUS_ORDER = ("preElection", "unofficialPartial", "unofficialComplete", "recount",
                "correction", "certified")


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def slug(iri: str) -> str:
    """A path segment for ``iri``: its last segment, cleaned, plus 8 hex of its hash
    (two contests both ending in ``/council`` stay apart)."""
    last = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", last).strip("-")[:60] or "x"
    return f"{clean}-{hashlib.sha256(iri.encode('utf-8')).hexdigest()[:8]}"


def level_segment(level: str) -> str:
    """A reporting level as a file name stem (``polling-place``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", level).strip("-")[:60] or "other"


def record(r: UnitResult) -> Json:
    """The snapshot record of one unit result (every field but the election)."""
    return {"contest": r.contest, "unit": r.unit, "level": r.level,
            "counts": [[s, n] for s, n in r.counts], "ballotsCast": r.ballots_cast,
            "blank": r.blank, "invalid": r.invalid, "registered": r.registered,
            "stationsReported": r.stations_reported, "stationsTotal": r.stations_total,
            "status": r.status, "asOf": r.as_of}


def key_of(rec: Mapping[str, Any]) -> Key:
    """The (contest, unit) key of a record."""
    return str(rec["contest"]), str(rec["unit"])


def snapshot_bytes(election: str, records: Mapping[Key, Json]) -> bytes:
    """The snapshot file of ``records`` (``results.json``)."""
    return canonical({"election": election,
                      "results": [records[k] for k in sorted(records)]}) + b"\n"


def diff_bytes(election: str, generation: int, before: Mapping[Key, Json],
               after: Mapping[Key, Json]) -> tuple[bytes, list[Key]]:
    """The diff file from ``before`` to ``after``, and the keys it touches."""
    changed = [k for k in sorted(after) if before.get(k) != after[k]]
    removed = [k for k in sorted(before) if k not in after]
    body = {"election": election, "generation": generation,
            "changed": [after[k] for k in changed], "removed": [list(k) for k in removed]}
    return canonical(body) + b"\n", sorted(changed + removed)


def apply_diff(records: dict[Key, Json], diff: Mapping[str, Any]) -> None:
    """Apply a parsed ``diff.json`` to ``records`` in place; ValueError when malformed."""
    changed, removed = diff.get("changed"), diff.get("removed")
    if not isinstance(changed, list) or not isinstance(removed, list):
        raise ValueError("a diff has changed and removed arrays")
    for item in removed:
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError("a removed key is [contest, unit]")
        records.pop((str(item[0]), str(item[1])), None)
    for rec in changed:
        if not isinstance(rec, dict) or "contest" not in rec or "unit" not in rec:
            raise ValueError("a changed record names its contest and unit")
        records[key_of(rec)] = rec


def least_final(statuses: Iterable[str]) -> str:
    """The least final of ``statuses`` in the results-status scheme's words."""
    words = [STATUSES.get(s, s) for s in statuses]
    known = [w for w in words if w in STATUS_ORDER]
    return min(known, key=STATUS_ORDER.index) if known else "preElection"


def jsonld_view(records: list[Json]) -> bytes:
    """The records as compact JSON-LD with the shared context (ContestResult nodes)."""
    return canonical({"@context": CONTEXT, "@graph": [jsonld_node(r) for r in records]}) + b"\n"


def jsonld_node(rec: Json) -> Json:
    """One record as a ContestResult node of :func:`jsonld_view`."""
    node: Json = {"type": "ContestResult", "contest": rec["contest"],
                  "reportingUnit": rec["unit"],
                  "resultsStatus": STATUSES.get(rec["status"], rec["status"]),
                  "reportedAt": rec["asOf"],
                  "voteCounts": [{"type": "VoteCount", "selection": s, "countType": "total",
                                  "count": n} for s, n in rec["counts"]]}
    for field, term in (("ballotsCast", "ballotsCast"), ("blank", "blankBallots"),
                        ("invalid", "invalidBallots"), ("registered", "registeredVoters")):
        if rec[field] is not None:
            node[term] = rec[field]
    return node


CSV_HEADER = ("contest", "unit", "level", "selection", "votes", "ballots_cast", "blank",
              "invalid", "registered", "stations_reported", "stations_total", "status",
              "as_of")


def _cell(value: Any) -> str:
    """A CSV cell: empty for None, numbers as they are, text safe for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)  # a number is never a formula: no check needed
    return spreadsheet_safe(str(value))


def csv_view(records: list[Json]) -> bytes:
    """The records as CSV, a row per unit and selection (cells safe for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for rec in records:
        # The cells of the unit, once per record rather than once per selection.
        head = [_cell(rec["contest"]), _cell(rec["unit"]), _cell(rec["level"])]
        tail = [_cell(rec[k]) for k in ("ballotsCast", "blank", "invalid", "registered",
                                        "stationsReported", "stationsTotal", "status",
                                        "asOf")]
        writer.writerows([*head, _cell(selection), _cell(votes), *tail]
                         for selection, votes in rec["counts"])
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class ElectionFacts:
    """What a NIST report needs beyond the results: the election's name and dates."""

    name: str
    start: str
    end: str


def _text(value: str) -> Json:
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": value,
                      "Language": "und"}]}


def nist_view(election: str, facts: ElectionFacts | None, contest: str, level: str,
              records: list[Json], generated: str) -> bytes:
    """One contest at one level as a NIST SP 1500-100 v2 ElectionReport (JSON)."""
    units = sorted({rec["unit"] for rec in records})
    ids = {iri: slug(iri) for iri in units}
    selections = sorted({s for rec in records for s, _ in rec["counts"]})
    counts: dict[str, list[Json]] = {s: [] for s in selections}
    ballots = []
    for rec in records:
        for s, n in rec["counts"]:
            counts[s].append({"@type": "ElectionResults.VoteCounts", "Count": n,
                              "GpUnitId": ids[rec["unit"]], "Type": "total"})
        if rec["ballotsCast"] is not None:
            tally: Json = {"@type": "ElectionResults.BallotCounts",
                           "GpUnitId": ids[rec["unit"]], "Type": "total",
                           "BallotsCast": rec["ballotsCast"]}
            if rec["invalid"] is not None:
                tally["BallotsRejected"] = rec["invalid"]
            ballots.append(tally)
    scope = ids[units[0]] if units else "scope"
    day = (records[0]["asOf"][:10] if records else generated[:10])
    election_doc: Json = {
        "@type": "ElectionResults.Election", "Name": _text(facts.name if facts else election),
        "StartDate": facts.start if facts and facts.start else day,
        "EndDate": facts.end if facts and facts.end else day,
        "ElectionScopeId": scope, "Type": "other", "OtherType": "published-generation",
        "Contest": [{"@id": slug(contest), "@type": "ElectionResults.CandidateContest",
                     "Name": contest, "ElectionDistrictId": scope, "VotesAllowed": 1,
                     "ContestSelection": [
                         {"@id": slug(s), "@type": "ElectionResults.CandidateSelection",
                          **({"VoteCounts": counts[s]} if counts[s] else {})}
                         for s in selections]}]}
    if ballots:
        election_doc["BallotCounts"] = ballots
    status = least_final(rec["status"] for rec in records)
    report = nist_report(level, generated, status, election_doc, [
        {"@id": ids[u], "@type": "ElectionResults.ReportingUnit",
         "Name": _text(u), "Type": "other", "OtherType": level} for u in units])
    return canonical(report) + b"\n"


def nist_report(level: str, generated: str, status: str, election: Json,
                units: object) -> Json:
    """The NIST CDF ``ElectionReport`` (SP 1500-100 v2) of one contest at one reporting
    ``level``: its ``Election`` and its ``GpUnit`` list (or a placeholder for it)."""
    precinct = level in ("precinct", "polling-place")
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "precinct-level" if precinct else "summary-contest",
        "GeneratedDate": generated, "Issuer": "ddsnode", "IssuerAbbreviation": "ddsnode",
        "SequenceStart": 1, "SequenceEnd": 1,
        "Status": NIST_STATUSES.get(status, "pre-election"),
        "VendorApplicationId": f"ddsnode {__version__}", "Election": [election],
        "GpUnit": units}
