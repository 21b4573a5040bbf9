"""What a supervisor settles on election night: double entries that differ, and tallies
refused for a station already counted (corrections waiting for a reviewer).

Read from the desk's state (which entries wait, which refusals came after the counted
tally) and the event log (their numbers, times and who sent them), by
:meth:`ddsnode.intake.desk.Desk.review`. Each item is settled through the desk like any
tally: a correction (``Correction-Reason``, scope ``review``) with the numbers of the side
the supervisor accepts (:func:`submission_body`) — of the counted station it revises the
counted event, of a station with entries that differ it counts those numbers
(:mod:`.decision`). Plain Python: the supervisor's page is
``explorer/web/clerk_review.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ddsnode.intake.log import Event
from ddsnode.intake.tally import Tally

__all__ = ["FIGURES", "Entry", "Mismatch", "OpenCorrection", "Review", "differing",
           "entry_of", "figures_of", "gather", "submission_body", "waiting"]

#: The figures beside the votes, as the log's tally names them, and their short names
FIGURES = (("cast", "ballotsCast"), ("blank", "blankBallots"),
           ("invalid", "invalidBallots"), ("registered", "registeredVoters"))


@dataclass(frozen=True)
class Entry:
    """One logged tally: its event, time, the token's id and the numbers."""

    event: int
    time: str
    subject: str
    tally: Tally
    reason: str = ""


@dataclass(frozen=True)
class Mismatch:
    """A station whose double entries differ: nothing counted until one side is taken."""

    contest: str
    unit: str
    entries: tuple[Entry, ...]  # oldest first, one per distinct set of numbers


@dataclass(frozen=True)
class OpenCorrection:
    """Another tally for a counted station, refused since it was counted (no review
    scope, or no reason): the counted tally and the proposed one."""

    contest: str
    unit: str
    current: int  # the counted event (0: a stored result the log does not have)
    counted: Entry | None  # None: counted from a stored result (an import)
    proposed: Entry  # the first sending of these numbers (the item's id on a page), with
    # the last reason a sending of them gave


@dataclass(frozen=True)
class Review:
    """What waits for a supervisor, oldest first; ``more`` items were not listed."""

    mismatches: tuple[Mismatch, ...]
    corrections: tuple[OpenCorrection, ...]
    more: int


def figures_of(tally: Tally) -> dict[str, int | None]:
    """selection IRI or figure name -> its number, as a page compares two tallies."""
    out: dict[str, int | None] = dict(tally.totals())
    data = tally.to_json()
    out.update({name: data[term] for name, term in FIGURES})
    return out


def differing(tallies: list[Tally]) -> frozenset[str]:
    """The selections and figures (:func:`figures_of` keys) the tallies disagree on."""
    seen = [figures_of(t) for t in tallies]
    names = {n for f in seen for n in f}
    return frozenset(n for n in names if len({f.get(n) for f in seen}) > 1)


def submission_body(tally: Tally) -> bytes:
    """The JSON-LD ContestResult a client sends for ``tally`` (``POST /intake/tallies``)."""
    doc: dict[str, Any] = {
        "@context": "https://w3id.org/dds/context/v1", "type": "ContestResult",
        "contest": tally.contest, "reportingUnit": tally.unit,
        "voteCounts": [{"type": "VoteCount", "selection": s, "countType": t, "count": c}
                       for s, t, c in tally.counts]}
    data = tally.to_json()
    doc.update({term: data[term] for _, term in FIGURES if data[term] is not None})
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def entry_of(event: Event) -> Entry | None:
    """The tally an event logged (accepted, or refused and kept), else None."""
    data = event.details.get("tally")
    if not isinstance(data, dict):
        return None
    return Entry(event.seq, event.time, event.subject, Tally.from_json(data),
                 str(event.details.get("reason", "")))


Page = Callable[[int, int], list[Event]]  # the log's page(after, limit)
Key = tuple[str, str]  # (contest, station)
Mismatched = dict[Key, tuple[int, ...]]
Disputed = dict[Key, tuple[int, Tally | None, tuple[int, ...]]]


def waiting(pending: dict[Key, list[tuple[str, str, int]]], refused: dict[Key, list[int]],
            current: dict[Key, tuple[int, int, str]],
            counted: Callable[[str, str], Tally | None]) -> tuple[Mismatched, Disputed]:
    """From the desk's state (under its lock): the stations whose waiting entries differ
    (-> their events), and the counted stations with tallies refused since they were
    counted (-> the counted event, the counted tally, the refused events)."""
    mismatched = {k: tuple(seq for _, _, seq in v) for k, v in pending.items()
                  if len({fp for _, fp, _ in v}) > 1}
    disputed = {k: (current[k][0], counted(*k), tuple(s for s in v if s > current[k][0]))
                for k, v in refused.items() if k in current}
    return mismatched, disputed


def gather(page: Page, mismatches: Mismatched, disputes: Disputed, limit: int) -> Review:
    """The items, their entries read from the log (``page``): ``mismatches`` are
    (contest, station) -> the waiting entries' events; ``disputes`` -> (the counted
    event, the counted tally, the events refused since)."""

    def entry(seq: int) -> Entry | None:
        found = page(seq - 1, 1)
        return entry_of(found[0]) if found and found[0].seq == seq else None

    waiting = sorted([(min(seqs), 0, key) for key, seqs in mismatches.items() if seqs] +
                     [(min(d[2]), 1, key) for key, d in disputes.items() if d[2]])
    found: list[Mismatch] = []
    refused: list[OpenCorrection] = []
    for done, (_, kind, (contest, unit)) in enumerate(waiting):
        if len(found) + len(refused) >= limit:
            return Review(tuple(found), tuple(refused), len(waiting) - done)
        if kind == 0:
            entries = _distinct(entry(s) for s in sorted(mismatches[(contest, unit)]))
            if len(entries) > 1:
                found.append(Mismatch(contest, unit, tuple(entries)))
            continue
        current, counted, seqs = disputes[(contest, unit)]
        shown = counted.fingerprint() if counted is not None else ""
        sent: dict[str, Entry] = {}  # one item per distinct tally: its first sending,
        for e in filter(None, (entry(s) for s in seqs)):  # with the last reason given
            fingerprint = e.tally.fingerprint()
            if fingerprint != shown:
                first_sent = sent.setdefault(fingerprint, e)
                if e.reason and e is not first_sent:
                    sent[fingerprint] = replace(first_sent, reason=e.reason)
        first = entry(current) if current else None
        refused += [OpenCorrection(contest, unit, current, first, e) for e in sent.values()]
    return Review(tuple(found), tuple(refused), 0)


def _distinct(entries: Any) -> list[Entry]:
    """One entry per distinct set of numbers (the first sent), oldest first."""
    out: dict[str, Entry] = {}
    for e in entries:
        if e is not None:
            out.setdefault(e.tally.fingerprint(), e)
    return list(out.values())
