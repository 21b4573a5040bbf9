"""Container query parameters: filters, page size and cursor, checked (400 when bad).

``?type=Proposal&topic=ddstopic:mobility&state=accepted&area=…&platform=…``
``&bbox=minLong,minLat,maxLong,maxLat&from=2026-01-01&to=2026-12-31&q=bike&limit=50&cursor=…``

Values may be full IRIs, compact IRIs with a prefix of the shared context
(``ddstopic:mobility``) or terms of the context (``Proposal``, ``accepted``); ``topic`` and
``state`` also take a bare concept name (``mobility``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache

from ddsnode import resources
from ddsnode.ldp.indexing import normalise_date
from ddsnode.problem import BadRequest
from ddsnode.store.base import Filters

PARAMETERS = ("type", "topic", "state", "area", "platform", "bbox", "from", "to", "q",
              "limit", "cursor")
FILTER_PARAMETERS = PARAMETERS[:-1]  # all but the cursor: kept in first/next links
MAX_VALUE = 500
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1 (Unicode category Cc)


@cache
def _context() -> dict[str, object]:
    context: dict[str, object] = resources.context_document()["@context"]
    return context


def _expand_prefixed(value: str) -> str | None:
    prefix, sep, local = value.partition(":")
    namespace = _context().get(prefix) if sep else None
    if isinstance(namespace, str) and namespace[-1:] in ("#", "/"):
        return namespace + local
    return None


def expand(value: str, name: str, concept_prefix: str | None = None) -> str:
    """An IRI for a filter value (see the module docstring); BadRequest if unresolvable."""
    if "://" in value or value.startswith("urn:"):
        return value
    term = _context().get(value)
    term_id = term.get("@id") if isinstance(term, dict) else term
    if isinstance(term_id, str):
        return _expand_prefixed(term_id) or term_id
    found = _expand_prefixed(value)
    if found:
        return found
    if concept_prefix and value.replace("-", "").replace("_", "").isalnum():
        base = _context().get(concept_prefix)
        if isinstance(base, str):
            return base + value
    raise BadRequest(f"{name}={value[:100]!r}: expected an IRI, a compact IRI or a term of "
                     "the shared context")


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minLong,minLat,maxLong,maxLat`` as four finite, in-range, ordered numbers; 400."""
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise BadRequest("bbox must be minLong,minLat,maxLong,maxLat (four numbers)")
    min_long, min_lat, max_long, max_lat = parts
    if not (-180 <= min_long <= max_long <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BadRequest("bbox: longitudes in [-180, 180], latitudes in [-90, 90], min ≤ max")
    return min_long, min_lat, max_long, max_lat


def _date(value: str, name: str) -> str:
    found = normalise_date(value)
    if found is None:
        raise BadRequest(f"{name} must be an ISO date (2026-03-01) or dateTime")
    return found


def container_filters(params: Mapping[str, str], *, page_size: int, max_page_size: int
                      ) -> tuple[Filters, int, str | None, dict[str, str]]:
    """(filters, limit, cursor, the filter parameters to repeat in paging links)."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"Unknown query parameter(s): {', '.join(unknown)[:200]}; "
                         f"a container takes {', '.join(PARAMETERS)}")
    for name, value in params.items():
        if len(value) > MAX_VALUE or not value.strip():
            raise BadRequest(f"{name} must be a non-empty value of at most {MAX_VALUE} characters")
        if CONTROL.search(value):
            # Control characters (a NUL ends an FTS5 query early, SQLite then fails) are
            # refused here too, for callers other than HTTP (the HTTP layer checks first).
            raise BadRequest(f"{name} contains a control character")
    get = params.get
    limit = page_size
    if get("limit") is not None:
        try:
            limit = int(get("limit", ""))
        except ValueError:
            raise BadRequest("limit must be a whole number") from None
        if not 1 <= limit <= max_page_size:
            raise BadRequest(f"limit must be between 1 and {max_page_size}")
    filters = Filters(
        type=expand(params["type"], "type") if "type" in params else None,
        topic=expand(params["topic"], "topic", "ddstopic") if "topic" in params else None,
        state=expand(params["state"], "state", "ddsstate") if "state" in params else None,
        area=expand(params["area"], "area") if "area" in params else None,
        platform=expand(params["platform"], "platform") if "platform" in params else None,
        bbox=parse_bbox(params["bbox"]) if "bbox" in params else None,
        date_from=_date(params["from"], "from") if "from" in params else None,
        date_to=_date(params["to"], "to") if "to" in params else None,
        text=get("q"),
    )
    query = {k: v for k, v in params.items() if k in FILTER_PARAMETERS}
    return filters, limit, get("cursor"), query
