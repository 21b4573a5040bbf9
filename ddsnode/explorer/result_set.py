"""The set of docs a search matches, as a numpy mask, and one page of it in date order.

Text goes to FTS5 (one ``group_concat`` of rowids: no Python object per row); facet
filters are unions of in-memory postings (``ddsnode.explorer.facet_counts``); a date
range or a bounding box is one SQL pass over ``docs``. The set is their intersection.
The page is then read in ``docs_order`` (keyset on sort key and id): a small set by its
ids, sorted; a large one by walking the index and testing each row against the mask,
which stops after a page of hits (about ``page × docs / matches`` rows).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np
import numpy.typing as npt

from ddsnode.explorer.facet_counts import FacetTable, Ids
from ddsnode.explorer.query import FACETS, SearchQuery

Mask = npt.NDArray[np.bool_]
SMALL = 4096  # a result set up to this size is paged by its ids; larger, by the index walk
HIT_COLUMNS = "d.iri, d.node, d.kind, d.titles, d.summaries, d.date, d.lat, d.long"


def _ids(conn: sqlite3.Connection, sql: str, params: list[Any]) -> Ids:
    joined = conn.execute(sql, params).fetchone()[0]
    return np.fromstring(joined, dtype=np.int64, sep=",") if joined \
        else np.empty(0, dtype=np.int64)


def matches(conn: sqlite3.Connection, table: FacetTable, match: str | None,
            query: SearchQuery) -> Mask | None:
    """The docs ``query`` selects (``match``: its FTS5 expression), as a mask indexed by
    doc id; None when it selects every doc."""
    size = table.max_id + 1
    mask: Mask | None = None

    def narrow(part: Mask) -> None:
        nonlocal mask
        mask = part if mask is None else np.logical_and(mask, part)

    def of_ids(ids: Ids) -> Mask:
        part = np.zeros(size, dtype=np.bool_)
        part[ids[ids < size]] = True
        return part

    if match is not None:
        narrow(of_ids(_ids(conn, "SELECT group_concat(rowid) FROM terms WHERE terms MATCH ?",
                           [match])))
    for facet in FACETS:
        values = query.filters.get(facet)
        if values:
            narrow(table.union(facet, values, size))
    clauses: list[str] = []
    params: list[Any] = []
    if query.date_from:
        clauses.append("date >= ?")
        params.append(query.date_from)
    if query.date_to:
        # A dateTime on the last day sorts after the bare date: compare up to its end.
        clauses.append("date <= ?")
        params.append(query.date_to + "T99")
    if query.bbox:
        west, south, east, north = query.bbox
        clauses.append("long BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        params += [west, east, south, north]
    if clauses:
        narrow(of_ids(_ids(conn, "SELECT group_concat(id) FROM docs WHERE "
                           + " AND ".join(clauses), params)))
    return mask


def page(conn: sqlite3.Connection, mask: Mask | None, cursor: tuple[str, int] | None,
         newer: bool, limit: int, *, small: int = SMALL) -> list[tuple[Any, ...]]:
    """Up to ``limit`` rows of the set (hit columns, sort key, id), newest first, or
    oldest first after a ``newer`` cursor; keyset: strictly past ``cursor``. A set of at
    most ``small`` docs is read by its ids, a larger one by walking the index."""
    order = "ASC" if newer else "DESC"
    where: list[str] = []
    params: list[Any] = []
    if cursor is not None:
        key, doc = cursor
        op = ">" if newer else "<"
        # The plain bound lets SQLite start the index walk at the cursor.
        where.append(f"d.sortkey {op}= ? AND (d.sortkey {op} ? OR (d.sortkey = ? AND d.id {op} ?))")
        params += [key, key, key, doc]
    ordering = f"d.sortkey {order}, d.id {order}"
    if mask is not None:
        ids = np.flatnonzero(mask)
        if len(ids) <= small:
            where.append("d.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(ids.tolist()))
            # Fetch the few rows by id, then sort them (not a walk of the whole index).
            ordering = f"+d.sortkey {order}, d.id {order}"
        else:
            chosen, size = mask, len(mask)
            conn.create_function("dds_chosen", 1,
                                 lambda doc: bool(doc < size and chosen[doc]),
                                 deterministic=False)
            where.append("dds_chosen(d.id)")
    sql = (f"SELECT {HIT_COLUMNS}, d.sortkey, d.id FROM docs d "
           f"WHERE {' AND '.join(where) or '1'} ORDER BY {ordering} LIMIT ?")
    return conn.execute(sql, (*params, limit)).fetchall()
