"""Container pages of the PostgreSQL store: one keyset query per page.

The same plan as the embedded store's (``embedded._children_query``): driven by the
``(field, value, container, seq)`` tag index for a tag filter, else by the
``(container, seq)`` partial index, ``ORDER BY`` the driving key so PostgreSQL stops after
``limit`` matching rows. Full text uses a ``tsvector`` with the built-in ``simple``
configuration (lower-cased words, no stemming, no stop words): every word of the filter
must occur, as with SQLite's FTS5 (which also folds diacritics; ``simple`` does not).
"""

from __future__ import annotations

from typing import Any

from ddsnode.store.base import Filters

COLUMNS = "r.seq, r.iri, r.kind, r.modified, r.index_json"


def children_query(container: str, bound: int | None, limit: int,
                   filters: Filters, *, newer: bool = False) -> tuple[str, list[Any]]:
    """SQL and parameters for one page: members with seq below ``bound``, newest first;
    with ``newer``, above it, oldest first."""
    tags = [(f, v) for f, v in (("type", filters.type), ("topic", filters.topic),
                                 ("state", filters.state), ("area", filters.area),
                                 ("platform", filters.platform)) if v]
    params: list[Any] = []
    if tags:
        field, value = tags.pop(0)
        sql = (f"SELECT {COLUMNS} FROM tags t JOIN resources r ON r.seq = t.seq "
               "WHERE t.field = %s AND t.value = %s AND t.container = %s")
        params += [field, value, container]
        key = "t.seq"
    else:
        sql = (f"SELECT {COLUMNS} FROM resources r "
               "WHERE r.container = %s AND r.kind <> 'tombstone'")
        params.append(container)
        key = "r.seq"
    for field, value in tags:
        sql += (" AND EXISTS (SELECT 1 FROM tags x WHERE x.field = %s AND x.value = %s "
                "AND x.container = %s AND x.seq = r.seq)")
        params += [field, value, container]
    if filters.text:
        sql += " AND r.search @@ plainto_tsquery('simple', %s)"
        params.append(filters.text.replace("\x00", " "))
    if bound is not None:
        sql += f" AND {key} {'>' if newer else '<'} %s"
        params.append(bound)
    if filters.bbox is not None:
        min_long, min_lat, max_long, max_lat = filters.bbox
        sql += " AND r.lat BETWEEN %s AND %s AND r.long BETWEEN %s AND %s"
        params += [min_lat, max_lat, min_long, max_long]
    # Dates compare as ISO strings, byte by byte (COLLATE "C": the database's locale must
    # not reorder them); the \uffff suffix makes a bare date include its whole day.
    if filters.date_from:
        sql += ' AND r.date COLLATE "C" >= %s'
        params.append(filters.date_from.replace("\x00", ""))
    if filters.date_to:
        sql += ' AND r.date COLLATE "C" <= %s'
        params.append(filters.date_to.replace("\x00", "") + "\uffff")
    sql += f" ORDER BY {key} {'ASC' if newer else 'DESC'} LIMIT %s"
    params.append(limit)
    return sql, params
