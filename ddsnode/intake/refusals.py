"""The desk's refusals, one class per reason, so that a page can say which in words.

Each is a subclass of the problem the API already answers (:mod:`ddsnode.problem`):
the same status, ``type`` and ``title``, the same ``detail``, so the problem document
a client gets does not change (RFC 9457); only code that catches the class — the
clerk's and the supervisor's pages (``explorer/web/clerk_refusal.py``) — tells them
apart, and names the reason in the reader's language.

The tree (beside :class:`.tally.BadTally`, 422, and
:class:`ddsnode.elections.hook.ImplausibleResult`, 422, with its findings)::

    BadRequest       400  KeyMissing, ReasonTooLong
    Forbidden        403  NeedsReview
    Conflict         409  AlreadyCounted, NothingToCorrect, StaleRevision,
                          EnteredTwice, WrittenOtherwise
    Unprocessable    422  EvidenceMissing
    BadTally         422  UnknownContest, NotAStation, UnknownSelection
"""

from __future__ import annotations

from typing import Any

from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import BadTally, Tally
from ddsnode.problem import BadRequest, Conflict, Forbidden, Problem, Unprocessable

__all__ = ["FOR_REVIEW", "MAX_KEY", "MAX_REASON", "AlreadyCounted", "EnteredTwice",
           "EvidenceMissing", "KeyMissing", "NeedsReview", "NotAStation", "NothingToCorrect",
           "ReasonTooLong", "StaleRevision", "UnknownContest", "UnknownSelection",
           "WrittenOtherwise", "details"]

MAX_KEY = 255  # Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): an opaque id
MAX_REASON = 2000  # characters of a correction's reason


class KeyMissing(BadRequest):
    """No Idempotency-Key, or one that is not 1 to 255 printable ASCII characters."""


class ReasonTooLong(BadRequest):
    """A correction's reason over the desk's limit."""


class NeedsReview(Forbidden):
    """A correction from a token without the ``review`` scope."""


class EvidenceMissing(Unprocessable):
    """The ``Evidence`` header names no stored tally sheet."""


class AlreadyCounted(Conflict):
    """The station's tally for the contest is counted, with other numbers."""


class NothingToCorrect(Conflict):
    """A correction of a station with nothing counted (and no mismatch to settle)."""


class StaleRevision(Conflict):
    """A correction that names an event which is no longer the counted one."""


class EnteredTwice(Conflict):
    """Double entry: the same token entered this station's tally already."""


class WrittenOtherwise(Conflict):
    """The result's resource exists with other numbers (a write whose event was lost)."""


class UnknownContest(BadTally):
    """The tally names no contest of an election on this node."""


class NotAStation(BadTally):
    """The reporting unit is not a polling station of the contest."""


class UnknownSelection(BadTally):
    """A count for a selection the contest does not have."""


#: Refusals whose tally (and reason) the log keeps: a supervisor may take it as a
#: correction (:mod:`.review`); other refusals keep the body's hash only.
FOR_REVIEW = (AlreadyCounted, StaleRevision, NeedsReview)


def details(sub: Submission, digest: str, problem: Problem,
            tally: Tally | None = None) -> dict[str, Any]:
    """What the log keeps of a refused submission (``tally-refused``)."""
    out: dict[str, Any] = {
        "status": problem.status, "problem": problem.slug, "detail": problem.detail[:1000],
        "bodySha256": digest, "idempotencyKey": sub.key[:MAX_KEY]}
    if tally is not None and isinstance(problem, FOR_REVIEW):
        out["tally"] = tally.to_json()
        if sub.reason:
            out["reason"] = sub.reason[:MAX_REASON]
    return out
