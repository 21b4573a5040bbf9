"""The set of docs a search matches, as a numpy mask, and one page of it in date order.

Text goes to FTS5 (one ``group_concat`` of rowids: no Python object per row); facet
filters are unions of in-memory postings (``ddsnode.explorer.facet_counts``); a date
range or a bounding box is one SQL pass over ``docs``. The set is their intersection.
The page is then read in ``docs_order`` (keyset on sort key and id): a small set by its
ids, sorted; a large one by walking the index and testing each row against the mask,
which stops after a page of hits (about ``page × docs / matches`` rows).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from typing import Any

import numpy as np
import numpy.typing as npt

from ddsnode.explorer.facet_counts import FacetTable, Ids
from ddsnode.explorer.query import FACETS, SearchQuery

Mask = npt.NDArray[np.bool_]
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


def page(conn: sqlite3.Connection, table: FacetTable, mask: Mask | None,
         cursor: tuple[str, int] | None, newer: bool, limit: int, *,
         columns: str = HIT_COLUMNS) -> list[tuple[Any, ...]]:
    """Up to ``limit`` rows of the set (hit columns, sort key, id), newest first, or
    oldest first after a ``newer`` cursor; keyset: strictly past ``cursor``.

    The candidates are chosen in memory: of the docs whose place in the order is known
    (``table.rank``), the ``limit`` nearest past the cursor (``argpartition``: linear in
    the set, no sort); every doc added since the order was read joins them. SQL then
    orders those few rows exactly as ``docs_order`` does."""
    order = "ASC" if newer else "DESC"
    where: list[str] = []
    params: list[Any] = []
    if cursor is not None:
        key, doc = cursor
        op = ">" if newer else "<"
        where.append(f"(d.sortkey {op} ? OR (d.sortkey = ? AND d.id {op} ?))")
        params += [key, key, doc]
    with table.lock:
        candidates = _candidates(table, mask, cursor, newer, limit)
    where.append("d.id IN (SELECT value FROM json_each(?))")
    params.append(json.dumps(candidates.tolist()))
    sql = (f"SELECT {columns}, d.sortkey, d.id FROM docs d WHERE {' AND '.join(where)} "
           f"ORDER BY +d.sortkey {order}, d.id {order} LIMIT ?")
    return conn.execute(sql, (*params, limit)).fetchall()


def _candidates(table: FacetTable, mask: Mask | None, cursor: tuple[str, int] | None,
                newer: bool, limit: int) -> Ids:
    """Doc ids among which the page's rows are (a superset of them, at most ``limit`` plus
    the fresh docs)."""
    rank = table.rank
    if mask is None:
        ids = table.order_ids
    else:
        ids = np.flatnonzero(mask[:len(rank)])
    ranks = rank[ids] if len(ids) else np.empty(0, dtype=np.int64)
    known = ranks >= 0
    ids, ranks = ids[known], ranks[known]
    if cursor is not None:
        # The cursor's place in the loaded order: rows strictly before or after it.
        position = bisect.bisect_left(range(len(table.order_keys)), cursor,
                                      key=lambda i: (table.order_keys[i],
                                                     int(table.order_ids[i])))
        if newer:
            exact = position < len(table.order_keys) and (
                table.order_keys[position], int(table.order_ids[position])) == cursor
            keep = ranks >= position + (1 if exact else 0)
        else:
            keep = ranks < position
        ids, ranks = ids[keep], ranks[keep]
    if len(ids) > limit:
        # The ``limit`` newest (largest ranks) or, after a newer cursor, oldest.
        chosen = np.argpartition(ranks, limit)[:limit] if newer else \
            np.argpartition(ranks, len(ranks) - limit)[len(ranks) - limit:]
        ids = ids[chosen]
    fresh = [d for d in table.fresh if mask is None or (d < len(mask) and mask[d])]
    return np.concatenate([ids, np.array(fresh, dtype=np.int64)]) if fresh else ids
