"""A submission to the intake desk and the desk's answer, as the HTTP layer sees them.

An accepted event's answer is a function of the event alone (:func:`answer_of`), so a
retry with the same idempotency key gets the same answer from the log, even after a
restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddsnode.intake.log import Event
from ddsnode.problem import Unprocessable

__all__ = ["Answer", "KeyReused", "Submission", "answer_of"]


class KeyReused(Unprocessable):
    """An idempotency key sent again with another body (draft-ietf-httpapi-idempotency-key
    -header 2.7: the server should answer 422)."""

    slug, title = "idempotency-key-reused", "The idempotency key was used for another request"


@dataclass(frozen=True)
class Submission:
    """One request to the desk, as the HTTP layer hands it over."""

    body: bytes
    media_type: str
    key: str
    subject: str  # the token's id
    scopes: frozenset[str]
    contest: str = ""  # EML: the contest's IRI (the 510 file names it by a local id)
    reason: str = ""  # a correction's reason
    revises: int | None = None  # a correction: the event it revises, when the client says
    evidence: str = ""  # SHA-256 of a stored tally sheet


@dataclass(frozen=True)
class Answer:
    """What the desk answers: HTTP status, JSON body, whether it replays an earlier one."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def answer_of(event: Event) -> Answer:
    """The answer an accepted event gave (and gives again to a retry with its key)."""
    d = event.details
    status = {"tally-counted": 201, "tally-correction": 201, "tally-unchanged": 200}.get(
        event.kind, 202)
    word = {"tally-counted": "counted", "tally-correction": "corrected",
            "tally-unchanged": "unchanged", "tally-entry": "awaiting-second-entry",
            "double-entry-mismatch": "mismatch"}[event.kind]
    body: dict[str, Any] = {"status": word, "event": event.seq, "eventHash": event.hash}
    for name in ("result", "sequence", "revises", "differs"):
        if name in d:
            body[name] = d[name]
    return Answer(status, body)
