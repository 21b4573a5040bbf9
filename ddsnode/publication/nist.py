"""A group's NIST CDF view joined from its records' pieces: the bytes of
:func:`ddsnode.publication.documents.nist_view`, for a fraction of its cost.

At 100,000 stations × 10 contests a part holds about 390 stations and a tally rebuilds
its part's views; the NIST report was the dearest of them: every unit's GpUnit id is a
SHA-256 and two regular expressions (:func:`documents.slug`), every vote count a small
dict, and the whole report one ``json.dumps``. Here the report's frame (election,
contest, selections: a few hundred bytes) is serialised by :func:`documents.canonical`
with a placeholder where each long list goes (the vote counts of each selection, the
ballot counts, the GpUnits), and each list is joined from pieces written straight as
canonical JSON (sorted keys, no spaces) from a unit id kept per unit (:class:`UnitIds`,
one short string per unit, whatever the number of contests). Canonical JSON of an object
is its members in key order joined by commas, so the joined bytes are the same bytes;
tests/test_publication_nist.py compares them with :func:`documents.nist_view` on records
with every optional field missing or present, odd characters, and repeated selections.
A placeholder is a string with NUL characters that no result holds; should one ever hold
it, the split finds more places than it made and the report is built the slow way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json

__all__ = ["UnitIds", "nist_bytes"]

_MARK = "\x00nist-piece\x00"
_MARK_BYTES = docs.canonical(_MARK)  # as the frame serialises it


class UnitIds:
    """Per unit, computed once: its NIST GpUnit id (:func:`documents.slug`) as a JSON
    string, and its GpUnit (a ReportingUnit of its level) as canonical JSON. One entry per
    unit of the election (about 560 bytes each, measured: 56 MB at 100,000 stations), whatever the
    number of contests."""

    def __init__(self) -> None:
        self._units: dict[str, tuple[bytes, str, bytes]] = {}

    def __call__(self, unit: str, level: str) -> tuple[bytes, bytes]:
        """The id and the GpUnit of ``unit`` at ``level``."""
        found = self._units.get(unit)
        if found is None or found[1] != level:
            gid = found[0] if found is not None else docs.canonical(docs.slug(unit))
            found = self._units[unit] = (gid, level, (
                b'{"@id":' + gid + b',"@type":"ElectionResults.ReportingUnit","Name":' +
                _text(unit) + b',"OtherType":' + docs.canonical(level) +
                b',"Type":"other"}'))
        return found[0], found[2]

    def __len__(self) -> int:
        return len(self._units)


def _number(value: Any) -> bytes:
    # bool is an int to isinstance, but canonical JSON writes it "true"
    return str(value).encode("ascii") if type(value) is int else docs.canonical(value)


def _text_node(value: str) -> Json:
    """documents._text: a NIST InternationalizedText of undetermined language."""
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": value,
                      "Language": "und"}]}


def _text(value: str) -> bytes:
    """canonical(_text_node(value)), written directly."""
    return (b'{"@type":"ElectionResults.InternationalizedText","Text":[{"@type":'
            b'"ElectionResults.LanguageString","Content":' + docs.canonical(value) +
            b',"Language":"und"}]}')


def nist_bytes(election: str, facts: ElectionFacts | None, contest: str, level: str,
               records: Sequence[Json], generated: str, status: str, ids: UnitIds) -> bytes:
    """``documents.nist_view(election, facts, contest, level, records, generated)`` for
    ``records`` sorted by unit, one per unit (as a group holds them); ``status`` is
    :func:`documents.least_final` of their statuses."""
    if any(records[i]["unit"] >= records[i + 1]["unit"] for i in range(len(records) - 1)):
        return docs.nist_view(election, facts, contest, level, list(records), generated)
    counts: dict[str, list[bytes]] = {}
    ballots: list[bytes] = []
    units: list[bytes] = []
    for rec in records:
        gid, gp_unit = ids(rec["unit"], level)
        for s, n in rec["counts"]:
            counts.setdefault(s, []).append(
                b'{"@type":"ElectionResults.VoteCounts","Count":' + _number(n) +
                b',"GpUnitId":' + gid + b',"Type":"total"}')
        if rec["ballotsCast"] is not None:
            rejected = b"" if rec["invalid"] is None else \
                b',"BallotsRejected":' + _number(rec["invalid"])
            ballots.append(b'{"@type":"ElectionResults.BallotCounts","BallotsCast":' +
                           _number(rec["ballotsCast"]) + rejected + b',"GpUnitId":' + gid +
                           b',"Type":"total"}')
        units.append(gp_unit)
    selections = sorted(counts)
    scope = docs.slug(records[0]["unit"]) if records else "scope"
    day = (records[0]["asOf"][:10] if records else generated[:10])
    election_doc: Json = {
        "@type": "ElectionResults.Election",
        "Name": _text_node(facts.name if facts else election),
        "StartDate": facts.start if facts and facts.start else day,
        "EndDate": facts.end if facts and facts.end else day,
        "ElectionScopeId": scope, "Type": "other", "OtherType": "published-generation",
        "Contest": [{"@id": docs.slug(contest), "@type": "ElectionResults.CandidateContest",
                     "Name": contest, "ElectionDistrictId": scope, "VotesAllowed": 1,
                     "ContestSelection": [
                         {"@id": docs.slug(s), "@type": "ElectionResults.CandidateSelection",
                          "VoteCounts": _MARK} for s in selections]}]}
    # The lists in the order the frame serialises them (sorted keys: the Election's
    # "BallotCounts" before its "Contest", the report's "Election" before "GpUnit").
    pieces: list[list[bytes]] = []
    if ballots:
        election_doc["BallotCounts"] = _MARK
        pieces.append(ballots)
    pieces.extend(counts[s] for s in selections)
    report = docs.nist_report(level, generated, status, election_doc, _MARK)
    pieces.append(units)
    frame = docs.canonical(report).split(_MARK_BYTES)
    if len(frame) != len(pieces) + 1:  # a result held the placeholder: the slow way
        return docs.nist_view(election, facts, contest, level, list(records), generated)
    out = [frame[0]]
    for items, after in zip(pieces, frame[1:]):
        out.append(b"[" + b",".join(items) + b"]")
        out.append(after)
    return b"".join(out) + b"\n"
