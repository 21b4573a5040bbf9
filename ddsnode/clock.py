"""Time as the node writes it: UTC, to the second, in one lexical form.

``xsd:dateTime`` values the node sets (record times, counts, imports, feeds) use
``YYYY-MM-DDThh:mm:ssZ`` (XML Schema 1.1 Part 2, 3.3.7; RFC 3339 5.6), so they sort as
text and compare across processes. Values a client sends are kept as sent (issue 9).
"""

from __future__ import annotations

from datetime import UTC, datetime

TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"

__all__ = ["TIMESTAMP", "now", "stamp"]


def now() -> datetime:
    """The current time, UTC, to the second (as Last-Modified and xsd:dateTime show it)."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as the node writes an xsd:dateTime: UTC, ``…Z``."""
    moment = now() if moment is None else moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP)
