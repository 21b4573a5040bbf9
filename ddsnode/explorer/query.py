"""A search request, parsed and bounded: what ``/explore?…`` asks of the index.

Every bound is a setting (``docs/security.md``, "Explorer"): query length, number of
words, values per facet, page size. What breaks a bound or is malformed is a 400 problem
(:class:`ddsnode.problem.BadRequest`), never a slow query or a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from ddsnode.explorer.text import words
from ddsnode.ldp.filters import parse_bbox
from ddsnode.problem import BadRequest
from ddsnode.store.base import decode_cursor, encode_cursor

#: Facets a result list counts and a URL may filter on, in the order pages show them.
#: ``cluster`` is a topic of the automatic analysis (``ddsnode.explorer.clusters``), shown
#: in its own panel; ``topic`` a platform's own.
FACETS = ("kind", "topic", "place", "platform", "node", "state", "language", "cluster")
# ``lang`` picks the interface language (ddsnode.explorer.i18n), not a facet.
OTHER_PARAMS = ("q", "from", "to", "bbox", "cursor", "size", "lang")
MAX_VALUE_CHARS = 2048  # one facet value (an IRI)


@dataclass(frozen=True)
class Limits:
    """The bounds a search request must keep (settings ``explorer_*``)."""

    max_query_chars: int = 200
    max_terms: int = 12
    max_values: int = 10
    page_size: int = 20
    max_page_size: int = 100

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        """The bounds named by a node's settings."""
        return cls(*(int(getattr(settings, "explorer_" + name)) for name in (
            "max_query_chars", "max_terms", "max_values", "page_size", "max_page_size")))


@dataclass(frozen=True)
class SearchQuery:
    """Full text, facet filters, date range, bounding box and the page asked for."""

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min long, min lat, max long, max lat
    # (direction, sort key, doc id): "x" for the rows after (older than) that row, "y" for
    # the rows before (newer than) it.
    cursor: tuple[str, str, int] | None = None
    size: int = 20
    default_size: int = 20

    @property
    def terms(self) -> list[str]:
        """The words of the text query."""
        return words(self.text)

    def key(self) -> tuple[object, ...]:
        """What the result set depends on (not the page): a cache key for facet counts."""
        return (tuple(self.terms), tuple(sorted((k, v) for k, v in self.filters.items())),
                self.date_from, self.date_to, self.bbox)

    def params(self, *, toggle: tuple[str, str] | None = None, cursor: str | None = None,
               clear: str | None = None) -> list[tuple[str, str]]:
        """URL parameters of this query: with one facet value ``toggle``d (added, or
        removed when present), facet ``clear`` emptied, and at page ``cursor``."""
        out: list[tuple[str, str]] = [("q", self.text)] if self.text else []
        for name in FACETS:
            values = list(self.filters.get(name, ()))
            if toggle is not None and toggle[0] == name:
                if toggle[1] in values:
                    values.remove(toggle[1])
                else:
                    values.append(toggle[1])
            if name != clear:
                out += [(name, v) for v in values]
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        if self.bbox:
            out.append(("bbox", ",".join(f"{v:g}" for v in self.bbox)))
        if self.size != self.default_size:
            out.append(("size", str(self.size)))
        if cursor:
            out.append(("cursor", cursor))
        return out

    def url(self, path: str, extra: Iterable[tuple[str, str]] = (), *,
            toggle: tuple[str, str] | None = None, cursor: str | None = None,
            clear: str | None = None) -> str:
        """``path`` with this query's parameters (see :meth:`params`) and ``extra``."""
        params = self.params(toggle=toggle, cursor=cursor, clear=clear) + list(extra)
        return path + ("?" + urlencode(params) if params else "")

    def selected(self, facet: str, value: str) -> bool:
        """Whether ``value`` of ``facet`` is one of the filters."""
        return value in self.filters.get(facet, ())


def _date(name: str, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)") from None


OLDER, NEWER = "x", "y"


def encode_page_cursor(direction: str, sortkey: str, doc: int) -> str:
    """The opaque cursor of the page older (OLDER) or newer (NEWER) than a row."""
    return encode_cursor(direction, sortkey, doc)


def _cursor(value: str) -> tuple[str, str, int]:
    if len(value) > 256:
        raise BadRequest("malformed page cursor")
    try:
        tag, sortkey, doc = decode_cursor(value)
        if tag not in (OLDER, NEWER) or len(sortkey) > 64 or not doc.isdigit() \
                or len(doc) > 18:
            raise ValueError
        return tag, sortkey, int(doc)
    except ValueError:
        raise BadRequest("malformed page cursor") from None


def parse(pairs: Iterable[tuple[str, str]], limits: Limits) -> SearchQuery:
    """The SearchQuery of URL parameters ``pairs``; BadRequest when one is bad or too big."""
    text = ""
    filters: dict[str, list[str]] = {}
    date_from = date_to = None
    bbox = None
    cursor = None
    size = limits.page_size
    for name, value in pairs:
        if any(ord(c) < 32 for c in value):
            raise BadRequest(f"{name} holds control characters")
        if name == "q":
            if len(value) > limits.max_query_chars:
                raise BadRequest(f"q is longer than {limits.max_query_chars} characters")
            text = value.strip()
            if len(words(text)) > limits.max_terms:
                raise BadRequest(f"q has more than {limits.max_terms} words")
        elif name in FACETS:
            if not value:
                continue
            if len(value) > MAX_VALUE_CHARS:
                raise BadRequest(f"a {name} value is longer than {MAX_VALUE_CHARS} characters")
            values = filters.setdefault(name, [])
            if value not in values:
                values.append(value)
            if len(values) > limits.max_values:
                raise BadRequest(f"more than {limits.max_values} values of {name}")
        elif name == "from" and value:
            date_from = _date(name, value)
        elif name == "to" and value:
            date_to = _date(name, value)
        elif name == "bbox" and value:
            bbox = parse_bbox(value)  # the same rule as container filters
        elif name == "cursor" and value:
            cursor = _cursor(value)
        elif name == "size" and value:
            if not value.isdigit() or not 1 <= int(value) <= limits.max_page_size:
                raise BadRequest(f"size must be a number from 1 to {limits.max_page_size}")
            size = int(value)
    if date_from and date_to and date_from > date_to:
        raise BadRequest("from is after to")
    return SearchQuery(text=text, filters={k: tuple(v) for k, v in filters.items()},
                       date_from=date_from, date_to=date_to, bbox=bbox, cursor=cursor,
                       size=size, default_size=limits.page_size)
