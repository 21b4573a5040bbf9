"""Facet counts without scanning facet rows: the postings of every (facet, value) kept
in memory as sorted arrays of doc ids, counted against the result set with numpy.

Counting with SQL (``SELECT facet, value, count(*) … WHERE doc IN (results) GROUP BY``)
visits every facet row of every result: a search matching 60,000 of 100,000 resources
grouped half a million rows per request (p95 715 ms in ``bench/explorer.py``). Here the
result set becomes one boolean array and each value's count is a gather over its
postings: a few milliseconds at 100,000 resources, whatever the result size.

The table is derived from the index's ``facets`` rows (the truth, on disk) and kept in
step with the writes this process makes: a posting is a loaded array plus the ids added
and removed since (sets, folded back into the array past :data:`COMPACT_AT`). Another
process writing the same index file moves the ``epoch`` the index keeps in ``meta``;
the next sync sees it and the table reloads (``ddsnode.explorer.search``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

COMPACT_AT = 4096  # pending ids of one posting before it is folded into its array
FRESH_AT = 20_000  # docs added since the load before the table is read again
# A posting that is no facet: the docs with coordinates (the map's), kept like the others.
GEO = ("geo", "")
Ids = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass
class Posting:
    """The docs having one facet value: ``base`` (sorted) ∪ ``added`` ∖ ``removed``."""

    base: Ids
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    def size(self) -> int:
        """How many docs have the value."""
        return len(self.base) - len(self.removed) + len(self.added)

    def count_in(self, chosen: npt.NDArray[np.bool_]) -> int:
        """How many docs with the value are ``chosen`` (a mask indexed by doc id)."""
        limit = len(chosen)
        # Ids past the mask (docs indexed after it was made) are not in it: a sorted
        # array is cut at the first of them, in O(log n).
        base = self.base[:int(np.searchsorted(self.base, limit))]
        n = int(np.count_nonzero(chosen[base])) if len(base) else 0
        n -= sum(1 for d in self.removed if d < limit and chosen[d])
        n += sum(1 for d in self.added if d < limit and chosen[d])
        return n

    def mark(self, mask: Mask) -> None:
        """Set the docs with the value in ``mask`` (indexed by doc id)."""
        limit = len(mask)
        mask[self.base[:int(np.searchsorted(self.base, limit))]] = True
        for doc in self.removed:
            if doc < limit:
                mask[doc] = False
        for doc in self.added:
            if doc < limit:
                mask[doc] = True

    def compact(self) -> None:
        """Fold the pending ids into ``base``."""
        if not self.added and not self.removed:
            return
        kept = self.base[~np.isin(self.base, np.fromiter(self.removed, np.int64))] \
            if self.removed else self.base
        self.base = np.union1d(kept, np.fromiter(self.added, np.int64))
        self.added.clear()
        self.removed.clear()


@dataclass
class Layout:
    """The loaded ids of some postings laid out twice: end to end (``flat``, each posting
    from ``starts[i]``), and by doc (``owner[doc_start[d]:doc_start[d + 1]]``: the
    postings doc ``d`` is in). A result set of a few hundred docs among 100,000 is counted
    from its docs' rows (a few thousand) instead of a gather over every posting's ids
    (400,000 here): 10 to 20 times less work."""

    index: dict[tuple[str, str], int]
    postings: list[Posting]
    bases: list[Ids]  # each posting's ``base`` when laid out (a compaction replaces it)
    flat: Ids
    starts: Ids
    owner: npt.NDArray[np.int32]
    doc_start: Ids

    @classmethod
    def of(cls, items: list[tuple[tuple[str, str], Posting]]) -> Layout:
        """The layout of ``items`` (postings with loaded ids)."""
        lengths = np.array([len(p.base) for _, p in items], dtype=np.int64)
        flat = np.concatenate([p.base for _, p in items]) if items else \
            np.empty(0, dtype=np.int64)
        starts = np.zeros(len(items), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        order = np.argsort(flat, kind="stable")
        owner = np.repeat(np.arange(len(items), dtype=np.int32), lengths)[order]
        size = int(flat.max()) + 1 if len(flat) else 0
        doc_start = np.searchsorted(flat[order], np.arange(size + 1, dtype=np.int64))
        return cls({k: i for i, (k, _) in enumerate(items)}, [p for _, p in items],
                   [p.base for _, p in items], flat, starts, owner, doc_start)

    def sums(self, mask: Mask) -> Ids:
        """How many docs of each laid-out posting's loaded ids ``mask`` sets."""
        size = len(self.doc_start) - 1
        if np.count_nonzero(mask[:size]) * SPARSE < len(self.flat):
            ids = np.flatnonzero(mask[:size])
            first, last = self.doc_start[ids], self.doc_start[ids + 1]
            lengths = last - first
            total = int(lengths.sum())
            # Every row of every chosen doc: first[i], first[i] + 1, … last[i] - 1.
            rows = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + \
                np.arange(total, dtype=np.int64)
            return np.bincount(self.owner[rows], minlength=len(self.postings))
        if len(mask) < size:  # docs indexed after the mask was made are not in it
            mask = np.concatenate([mask, np.zeros(size - len(mask), dtype=np.bool_)])
        if not len(self.flat):
            return np.empty(0, dtype=np.int64)
        return np.add.reduceat(mask[self.flat], self.starts, dtype=np.int64)


SPARSE = 8  # a result set counts by doc when its docs are fewer than 1/8 of the rows


class FacetTable:
    """Every (facet, value) posting of one index, or nothing until :meth:`load`."""

    def __init__(self) -> None:
        self.postings: dict[tuple[str, str], Posting] = {}
        self.loaded = False
        self.epoch = ""  # the index's meta epoch these postings reflect
        self.max_id = 0
        # The result order (``docs_order``: sort key, id) as loaded: ``rank[id]`` is a
        # doc's position (-1: removed or added since), ``keys``/``ids`` the order itself
        # (to place a cursor); docs added since are ``fresh``, ordered by SQL.
        self.rank: Ids = np.empty(0, dtype=np.int64)
        self.order_keys: list[str] = []
        self.order_ids: Ids = np.empty(0, dtype=np.int64)
        self.fresh: set[int] = set()
        # Searches count in several threads while a sync adds and removes: every method
        # holds this lock (a count takes milliseconds).
        self.lock = threading.RLock()
        # The counted facets' postings laid out for one-pass counting (Layout); dropped
        # when a count meets a posting it no longer matches (a load, a compaction).
        self._layout: tuple[tuple[str, ...], Layout] | None = None

    def load(self, conn: sqlite3.Connection, epoch: str) -> None:
        """Read every posting from the ``facets`` table (primary key order: one pass)."""
        with self.lock:
            self._load(conn, epoch)

    def _load(self, conn: sqlite3.Connection, epoch: str) -> None:
        self.postings.clear()
        self._layout = None
        # One string of ids per value, joined by SQLite and parsed by numpy: no Python
        # object per row (100,000 resources, 800,000 rows: well under a second).
        for facet, value, joined in conn.execute(
                "SELECT facet, value, group_concat(doc) FROM facets GROUP BY facet, value"):
            ids = np.fromstring(joined, dtype=np.int64, sep=",")
            ids.sort()
            self.postings[(facet, value)] = Posting(ids)
        joined = conn.execute("SELECT group_concat(id) FROM docs WHERE lat IS NOT NULL "
                              "AND long IS NOT NULL").fetchone()[0]
        located = np.fromstring(joined, dtype=np.int64, sep=",") if joined else \
            np.empty(0, dtype=np.int64)
        located.sort()
        self.postings[GEO] = Posting(located)
        row = conn.execute("SELECT max(id) FROM docs").fetchone()
        self.max_id = int(row[0] or 0)
        keys: list[str] = []
        order: list[int] = []
        for doc, key in conn.execute("SELECT id, sortkey FROM docs ORDER BY sortkey, id"):
            order.append(doc)
            keys.append(key)
        self.order_keys, self.order_ids = keys, np.array(order, dtype=np.int64)
        self.rank = np.full(self.max_id + 1, -1, dtype=np.int64)
        self.rank[self.order_ids] = np.arange(len(order), dtype=np.int64)
        self.fresh = set()
        self.loaded, self.epoch = True, epoch

    def stale(self) -> bool:
        """Whether so many docs came since the load that reading it again is cheaper."""
        return len(self.fresh) > FRESH_AT

    def invalidate(self) -> None:
        """Forget the postings (a write failed half-way, or another process wrote)."""
        with self.lock:
            self.postings.clear()
            self.loaded, self.epoch = False, ""

    def add(self, doc: int, pairs: Iterable[tuple[str, str]]) -> None:
        """Doc ``doc`` now has the facet values ``pairs``."""
        with self.lock:
            self._add(doc, pairs)

    def _add(self, doc: int, pairs: Iterable[tuple[str, str]]) -> None:
        if not self.loaded:
            return
        self.max_id = max(self.max_id, doc)
        if doc < len(self.rank):
            self.rank[doc] = -1  # a reused rowid: its old place is not its place
        self.fresh.add(doc)
        for pair in set(pairs):
            self._post(doc, pair)

    def _post(self, doc: int, pair: tuple[str, str]) -> None:
        posting = self.postings.setdefault(pair, Posting(np.empty(0, dtype=np.int64)))
        if doc in posting.removed:
            posting.removed.discard(doc)  # back in base (a reused rowid)
        else:
            posting.added.add(doc)
        if len(posting.added) > COMPACT_AT:
            posting.compact()

    def remove(self, doc: int, pairs: Iterable[tuple[str, str]]) -> None:
        """Doc ``doc`` is gone, with the facet values ``pairs`` it had."""
        with self.lock:
            self._remove(doc, pairs)

    def _remove(self, doc: int, pairs: Iterable[tuple[str, str]]) -> None:
        if not self.loaded:
            return
        if doc < len(self.rank):
            self.rank[doc] = -1
        self.fresh.discard(doc)
        for pair in set(pairs):
            self._unpost(doc, pair)

    def _unpost(self, doc: int, pair: tuple[str, str]) -> None:
        posting = self.postings.get(pair)
        if posting is None:
            return
        if doc in posting.added:
            posting.added.discard(doc)
        else:
            posting.removed.add(doc)
        if len(posting.removed) > COMPACT_AT:
            posting.compact()

    def tag(self, pair: tuple[str, str], docs: Iterable[int]) -> None:
        """The ``docs``, already indexed and without it, now also have the facet value
        ``pair``; their place in the order is unchanged (an analysis topic naming them as
        members: ``ddsnode.explorer.clusters``). Folded into the posting's array at once:
        a topic's thousands of members would otherwise be counted one by one from a set
        until the next load."""
        with self.lock:
            if self.loaded:
                for doc in docs:
                    self._post(doc, pair)
                if pair in self.postings:
                    self.postings[pair].compact()

    def untag(self, pair: tuple[str, str], docs: Iterable[int]) -> None:
        """The ``docs`` stay indexed but no longer have the facet value ``pair``."""
        with self.lock:
            if self.loaded:
                for doc in docs:
                    self._unpost(doc, pair)
                if pair in self.postings:
                    self.postings[pair].compact()

    def size_except(self, facet: str, value: str) -> int:
        """How many docs have a value of ``facet`` other than ``value`` (for a facet
        every doc has once, such as ``node``: the docs not held by ``value``)."""
        with self.lock:
            return sum(p.size() for (f, v), p in self.postings.items()
                       if f == facet and v != value)

    def union(self, facet: str, values: Iterable[str], size: int) -> Mask:
        """The docs having any of ``values`` of ``facet``, as a mask of ``size``."""
        mask = np.zeros(size, dtype=np.bool_)
        with self.lock:
            for value in values:
                posting = self.postings.get((facet, value))
                if posting is not None:
                    posting.mark(mask)
        return mask

    def counts(self, facets: Iterable[str], mask: Mask | None
               ) -> dict[str, list[tuple[str, int]]]:
        """(value, count) per facet over the docs set in ``mask`` (all docs when None);
        values no chosen doc has are left out, as a GROUP BY leaves them out."""
        with self.lock:
            return self._counts(facets, mask)

    def _counts(self, facets: Iterable[str], mask: Mask | None
                ) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {f: [] for f in facets}
        layout = self._laid_out(tuple(out)) if mask is not None else None
        sums = layout.sums(mask).tolist() if layout is not None and mask is not None else []
        limit = len(mask) if mask is not None else 0
        stale = False
        for key, posting in self.postings.items():
            if key[0] not in out:
                continue
            if mask is None:
                n = posting.size()
            else:
                i = layout.index.get(key, -1) if layout is not None else -1
                if i >= 0 and layout is not None and layout.postings[i] is posting \
                        and layout.bases[i] is posting.base:
                    n = sums[i] - sum(1 for d in posting.removed if d < limit and mask[d]) \
                        + sum(1 for d in posting.added if d < limit and mask[d])
                else:  # not laid out (new, or changed since): counted alone, still exact
                    stale = stale or len(posting.base) > 0
                    n = posting.count_in(mask)
            if n:
                out[key[0]].append((key[1], n))
        if stale:
            self._layout = None  # laid out again at the next count
        return out

    def _laid_out(self, facets: tuple[str, ...]) -> Layout:
        if self._layout is None or self._layout[0] != facets:
            self._layout = (facets, Layout.of([(k, p) for k, p in self.postings.items()
                                               if k[0] in facets and len(p.base)]))
        return self._layout[1]
