"""What the clerk's and the supervisor's pages say when a tally is refused.

Every refusal the desk and the evidence store can answer is named here, by its class
(``intake/refusals.py``, ``ImplausibleResult`` with its findings, ``KeyReused``, the
token's 401 and 403, a tally sheet too large or of another type), as a message of the
clerk's catalogue (``locales/clerk/{en,fr,ca,es}.json``) beside the field it concerns.
The page never shows the problem's ``detail``: it is the API's English, for a client's
log, and names the station and the contest by their IRIs; the page names them once, by
their labels, in the summary's title. A refusal of no known class gets a message that
gives its HTTP status only. The API's problem documents are not changed.
"""

from __future__ import annotations

from collections.abc import Callable

from ddsnode.elections.hook import ImplausibleResult
from ddsnode.intake import refusals as no
from ddsnode.intake.submission import KeyReused
from ddsnode.intake.tally import BadTally
from ddsnode.problem import (
    Forbidden,
    PayloadTooLarge,
    Problem,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)

__all__ = ["FINDING_FIELDS", "REASONS", "Message", "reasons"]

Message = Callable[..., str]  # (msgid, **values) -> text in the page's language

#: refusal class -> (field id, msgid); the first class an error is an instance of wins,
#: so subclasses come before their parents.
REASONS: tuple[tuple[type[Problem], str, str], ...] = (
    (no.NeedsReview, "f-reason", "error_correction_scope"),
    (no.KeyMissing, "f-general", "error_key_missing"),
    (no.ReasonTooLong, "f-reason", "error_reason_too_long"),
    (no.EvidenceMissing, "f-evidence", "error_evidence_missing"),
    (no.AlreadyCounted, "f-reason", "error_already_counted"),
    (no.NothingToCorrect, "f-reason", "error_nothing_to_correct"),
    (no.StaleRevision, "f-general", "error_stale_revision"),
    (no.EnteredTwice, "f-general", "error_entered_twice"),
    (no.WrittenOtherwise, "f-general", "error_written_otherwise"),
    (no.UnknownContest, "f-contest", "error_unknown_contest"),
    (no.NotAStation, "f-station", "error_unknown_station"),
    (no.UnknownSelection, "f-contest", "error_unknown_selection"),
    (KeyReused, "f-general", "error_key_reused"),
    (ValidationFailed, "f-general", "error_validation"),
    (BadTally, "f-general", "error_bad_tally"),
    (PayloadTooLarge, "f-evidence", "error_evidence_too_large"),
    (UnsupportedMediaType, "f-evidence", "error_evidence_type"),
    (Unauthorized, "f-token", "error_token_401"),
    (Forbidden, "f-token", "error_token_403"),
    (Unavailable, "f-general", "error_unavailable"),
)
#: a plausibility finding's code -> the fields it is about
FINDING_FIELDS = {"turnout-over-100": ("f-cast", "f-registered"),
                  "counted-over-cast": ("f-cast",), "parts-over-total": ("f-contest",)}


def reasons(problem: Problem, m: Message, figures: dict[str, str],
            limits: dict[str, str]) -> list[tuple[str, str]]:
    """(field id, text) of each reason ``problem`` gives: ``m`` writes a message,
    ``figures`` are the numbers the clerk typed (a finding names them), ``limits`` the
    node's limits as the page writes them (``evidence``: bytes, ``reason``:
    characters)."""
    if isinstance(problem, ImplausibleResult):
        out: list[tuple[str, str]] = []
        for finding in problem.extra.get("findings", []):
            code = str(finding.get("code", ""))
            text = m(f"finding_{code}", **figures) if code in FINDING_FIELDS else \
                m("error_implausible")
            out += [(f, text) for f in FINDING_FIELDS.get(code, ("f-contest",))]
        return out or [("f-general", m("error_implausible"))]
    for kind, field, msgid in REASONS:
        if isinstance(problem, kind):
            return [(field, m(msgid, max=limits.get(field.removeprefix("f-"), "")))]
    return [("f-general", m("error_other", status=str(problem.status)))]
