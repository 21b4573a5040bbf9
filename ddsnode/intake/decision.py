"""What a tally does, decided from the state of its station: a pure function.

Counted first; repeated (the same numbers again: nothing written); refused when the
station is counted with other numbers (a correction is the way: it revises the counted
event and takes the next sequence); under double entry, waiting for a second entry by
another token, counted when two entries agree, reported when they differ. A supervisor
settles entries that differ with a correction of the uncounted station (scope
``review``, a reason): the tally they send is counted, single entry, and the event
names the entries it agrees with (``entries``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddsnode.intake.refusals import (
    AlreadyCounted,
    EnteredTwice,
    NothingToCorrect,
    StaleRevision,
)
from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import Tally

__all__ = ["Station", "plan"]


@dataclass(frozen=True)
class Station:
    """What the intake knows of one station in one contest when a tally comes in."""

    current: tuple[int, int, str] | None  # (event, sequence, result IRI) counted, if any
    counted: Tally | None  # the counted tally
    pending: tuple[tuple[str, str, int], ...]  # double entry: (token, fingerprint, event)
    double_entry: bool


def plan(sub: Submission, tally: Tally, digest: str,
         station: Station) -> tuple[str, dict[str, Any]]:
    """(event kind, details) for ``tally``; Conflict when it cannot be taken."""
    details: dict[str, Any] = {"tally": tally.to_json(), "key": sub.key, "bodySha256": digest}
    if sub.evidence:
        details["evidence"] = sub.evidence
    current = station.current
    if sub.reason:
        if current is None:
            return _settle(sub, tally, station, details)
        if sub.revises is not None and sub.revises != current[0]:
            raise StaleRevision(f"The counted tally is event {current[0]}, not {sub.revises}",
                           extra={"current": current[0]})
        details.update(sequence=current[1] + 1, revises=current[0], reason=sub.reason)
        return "tally-correction", details
    if current is not None:
        if station.counted is not None and \
                station.counted.fingerprint() == tally.fingerprint():
            details.update(result=current[2], sequence=current[1])
            return "tally-unchanged", details
        raise AlreadyCounted("This station's tally for this contest is already counted "
                       f"(event {current[0]}); a different one is a correction: send it "
                       "with a Correction-Reason", extra={"current": current[0]})
    if not station.double_entry:
        details["sequence"] = 1
        return "tally-counted", details
    pending = station.pending
    if any(subject == sub.subject for subject, _, _ in pending):
        raise EnteredTwice("Double entry: this token already entered this tally; the second "
                       "entry must come from another token")
    fingerprint = tally.fingerprint()
    matches = [seq for _, fp, seq in pending if fp == fingerprint]
    if matches:
        details.update(sequence=1, entries=[matches[0]])
        return "tally-counted", details
    if pending:
        details["differs"] = [seq for _, _, seq in pending]
        return "double-entry-mismatch", details
    return "tally-entry", details


def _settle(sub: Submission, tally: Tally, station: Station,
            details: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A correction of a station with nothing counted: it settles a double-entry
    mismatch (entries that differ), else there is nothing to correct."""
    pending = station.pending
    if len({fp for _, fp, _ in pending}) < 2:
        raise NothingToCorrect("Nothing is counted for this station and contest yet: there "
                               "is nothing to correct")
    if sub.revises is not None and sub.revises not in {seq for _, _, seq in pending}:
        raise StaleRevision(f"Event {sub.revises} is not an entry waiting for this station "
                            "and contest")
    fingerprint = tally.fingerprint()
    details.update(sequence=1, reason=sub.reason,
                   entries=[seq for _, fp, seq in pending if fp == fingerprint])
    return "tally-counted", details
