"""The explorer's search index: SQLite FTS5 in ``DIR/explorer.sqlite3``, derived and
rebuildable.

It replays two logs, as the SPARQL index replays the store's (``ddsnode.store.index``):
the store's change log (``Store.changes``: the node's own public resources; a private
container's members are never indexed, ``ddsnode.ldp.access``) and the peer cache's store
order (``federation.db``'s ``cache.seq``: valid cached peer resources, kept under their
origin IRI, so a result links to the node that is authoritative for it). Each replay
writes current state, so a replay cut short just runs again; deleting the file rebuilds
it. Nothing here is a second source of truth: a search result is a pointer into the
store or the cache.

Tables: ``docs`` (one row per resource: node, kind, titles, date, sort key),
``facets`` (doc, facet, value), ``terms`` (FTS5, folded words and lemmas,
``ddsnode.explorer.text``), ``vocab`` (folded word -> lemma, for query expansion),
``labels`` (IRI, language, label: titles of linked resources, concepts, pseudonyms).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddsnode.explorer import clusters, result_set
from ddsnode.explorer.extract import Doc, doc_of
from ddsnode.explorer.facet_counts import GEO, FacetTable, Mask
from ddsnode.explorer.query import FACETS, NEWER, OLDER, SearchQuery, encode_page_cursor
from ddsnode.explorer.text import fold, index_terms, lemma, words
from ddsnode.federation.cache import CacheReader
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.lru import LRU
from ddsnode.rdf.rdfio import graph_from_ntriples
from ddsnode.store.base import Store

FILE = "explorer.sqlite3"
# 2: links of a resource's own fragments too (a contest's candidates -> their party).
# 3: analysis topics as a facet of their members (ddsnode.explorer.clusters).
SCHEMA_VERSION = "3"
BATCH = 500
FACET_VALUES = 25  # values listed per facet (the most frequent)
MASK_CACHE_BYTES = 32 * 1024 * 1024

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    titles TEXT NOT NULL,
    summaries TEXT NOT NULL,
    date TEXT,
    sortkey TEXT NOT NULL,
    lat REAL,
    long REAL
);
CREATE INDEX IF NOT EXISTS docs_order ON docs (sortkey, id);
CREATE INDEX IF NOT EXISTS docs_node ON docs (node);
CREATE TABLE IF NOT EXISTS facets (facet TEXT NOT NULL, value TEXT NOT NULL,
    doc INTEGER NOT NULL, PRIMARY KEY (facet, value, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facets_doc ON facets (doc);
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(words,
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS vocab (word TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS labels (iri TEXT NOT NULL, lang TEXT NOT NULL, label TEXT NOT NULL,
    doc INTEGER NOT NULL, PRIMARY KEY (iri, lang, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_doc ON labels (doc);
CREATE TABLE IF NOT EXISTS links (object TEXT NOT NULL, predicate TEXT NOT NULL,
    doc INTEGER NOT NULL, PRIMARY KEY (object, predicate, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_doc ON links (doc);
"""


@dataclass(frozen=True)
class Hit:
    """One resource in a result list."""

    iri: str
    node: str
    kind: str
    titles: dict[str, str]
    summaries: dict[str, str]
    date: str | None
    lat: float | None
    long: float | None


@dataclass(frozen=True)
class Results:
    """A page of hits, the facet counts of the whole result set, and the page cursors."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    next: str | None  # cursor of the older page
    prev: str | None  # cursor of the newer page (None on the first page)


def _hit(row: tuple[Any, ...]) -> Hit:
    return Hit(iri=row[0], node=row[1], kind=row[2], titles=json.loads(row[3]),
               summaries=json.loads(row[4]), date=row[5], lat=row[6], long=row[7])


_HIT = result_set.HIT_COLUMNS


class SearchIndex:
    """The index of one node: own resources from ``store``, peers' from ``federation.db``."""

    def __init__(self, directory: Path, store: Store, base: str,
                 containers: ContainerRegistry) -> None:
        self.path = directory / FILE
        self.federation_db = directory / "federation.db"
        self.store, self.base, self.containers = store, base, containers
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._counts: LRU[tuple[int, dict[str, list[tuple[str, int]]], int]] = LRU(256)
        self._results: LRU[Results] = LRU(1024)
        # Result sets by (generation, query without its page): the next page, or the same
        # query at another page size, reuses the mask (100 kB at 100,000 resources).
        self._masks: LRU[Mask] = LRU(MASK_CACHE_BYTES, weigh=lambda m: int(m.nbytes))
        self.generation = 0  # moves whenever a sync changed something (caches key on it)
        self.table = FacetTable()  # facet postings in memory (ddsnode.explorer.facet_counts)
        conn = self._conn()
        if self._meta(conn, "schema") != SCHEMA_VERSION:
            # Derived data: an index of another layout is dropped and replayed.
            for table in ("docs", "facets", "terms", "vocab", "labels", "links", "meta"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.executescript(DDL)
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            conn.commit()

    # --- connections ---------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            # Derived data: losing the last commits to a crash only means replaying them.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(DDL)
            self._local.conn = conn
        return conn

    @staticmethod
    def _meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return default
        return str(row[0]) if row else default

    # --- replay ----------------------------------------------------------------------

    def sync(self, max_batches: int | None = None, *, peers: bool = True) -> int:
        """Index what changed since the last sync (all of it when ``max_batches`` is
        None; the peer cache too when ``peers``); how many resources were (re)indexed or
        removed."""
        with self._write_lock:
            conn = self._conn()
            epoch = self._meta(conn, "epoch")
            if epoch != self.table.epoch and self.table.loaded:
                # Another process wrote this index file: caches and postings are stale.
                self.table.invalidate()
                self.generation += 1
            try:
                done = self._sync_own(max_batches)
                if peers:
                    done += self._sync_peers(max_batches)
            except BaseException:
                self.table.invalidate()  # a batch rolled back after the postings moved
                self.generation += 1
                raise
            if done:
                self.generation += 1
                token = uuid.uuid4().hex
                with conn:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (token,))
                if self.table.loaded:
                    self.table.epoch = token
            if not self.table.loaded or self.table.stale():
                # Here, under the write lock, rather than in the first search.
                self.table.load(conn, self._meta(conn, "epoch"))
            return done

    def caught_up(self) -> bool:
        """Whether the index already holds every change of the store, checked on the
        caller's thread without waiting (three indexed lookups, about 15 µs): False when
        a sync is running, changes wait, or another process wrote the index file; the
        caller then runs :meth:`sync` (on a worker thread). Peers are not checked: their
        replay is paced by ``explorer_peer_sync_seconds``."""
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            if not self.table.loaded or self.table.stale():
                return False
            conn = self._conn()
            if self._meta(conn, "epoch") != self.table.epoch:
                return False
            return not self.store.changes(after=int(self._meta(conn, "own_seq", "0")),
                                          limit=1)
        finally:
            self._write_lock.release()

    def _sync_own(self, max_batches: int | None) -> int:
        conn = self._conn()
        done = batches = 0
        while max_batches is None or batches < max_batches:
            after = int(self._meta(conn, "own_seq", "0"))
            changes = self.store.changes(after=after, limit=BATCH)
            if not changes:
                break
            batches += 1
            latest = {c.iri: c for c in changes}
            with conn:
                for iri in latest:
                    self._reindex_own(conn, iri)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('own_seq', ?)",
                             (str(changes[-1].seq),))
            done += len(latest)
        return done

    def _reindex_own(self, conn: sqlite3.Connection, iri: str) -> None:
        resource = self.store.get(iri)
        path = iri[len(self.base):] if iri.startswith(self.base) else None
        container = self.containers.get(path) if path is not None else None
        if (resource is None or resource.kind != "rdf" or path is None
                or (container is not None and container.private)):
            _remove(conn, iri, self.table)
            return
        graph = graph_from_ntriples(resource.ntriples)
        _put(conn, doc_of(graph, iri, node=self.base, modified=resource.modified.isoformat()),
             self.table, self.base)

    def _sync_peers(self, max_batches: int | None) -> int:
        if not self.federation_db.exists():
            return 0
        conn = self._conn()
        # Read-only, through the cache's own reader: the federation loop owns the table.
        fed = CacheReader(self.federation_db, timeout=30.0)
        done = batches = 0
        while max_batches is None or batches < max_batches:
            after = int(self._meta(conn, "peer_seq", "0"))
            rows = fed.changes(after, BATCH)
            if not rows:
                break
            batches += 1
            with conn:
                for _seq, iri, origin, status, ntriples, fetched_at in rows:
                    if status != "valid" or iri.startswith(self.base):
                        _remove(conn, iri, self.table)
                        continue
                    graph = graph_from_ntriples(ntriples)
                    _put(conn, doc_of(graph, iri, node=origin, modified=str(fetched_at)),
                         self.table, self.base)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('peer_seq', ?)",
                             (str(rows[-1][0]),))
            done += len(rows)
        return done + self._forget_evicted(conn, fed)

    def _forget_evicted(self, conn: sqlite3.Connection, fed: CacheReader) -> int:
        """Drop peer docs the cache no longer holds as valid (evicted, dropped): checked
        by count, and only when the counts differ is the set compared."""
        cached = fed.valid_count()
        # Every doc has one node facet: the postings count the peers' docs without a scan.
        indexed = self.table.size_except("node", self.base) if self.table.loaded else \
            conn.execute("SELECT count(*) FROM docs WHERE node != ?", (self.base,)).fetchone()[0]
        if cached == indexed:
            return 0
        valid = fed.valid_iris()
        gone = [r[0] for r in conn.execute("SELECT iri FROM docs WHERE node != ?",
                                           (self.base,)) if r[0] not in valid]
        with conn:
            for iri in gone:
                _remove(conn, iri, self.table)
        return len(gone)

    # --- reads -----------------------------------------------------------------------

    def _match(self, terms: list[str]) -> str | None:
        """An FTS5 query: every word must match, as itself or as one of its lemmas
        (quoted: no FTS syntax from the user reaches SQLite)."""
        if not terms:
            return None
        conn = self._conn()
        groups = []
        for word in terms:
            folded = fold(word)
            forms = {folded, lemma(word.lower(), None)}
            row = conn.execute("SELECT lemma FROM vocab WHERE word = ?", (folded,)).fetchone()
            if row:
                forms.add(row[0])
            quoted = " OR ".join('"' + f.replace('"', '""') + '"' for f in sorted(forms) if f)
            groups.append(f"({quoted})")
        return " AND ".join(groups)

    def search(self, query: SearchQuery) -> Results:
        """A page of the resources ``query`` matches, newest first (keyset paging: a page
        is a range query on ``docs_order`` after or before the row a cursor names).
        Pages are kept per index generation: a repeated search is a dictionary lookup."""
        key = (self.generation, query.key(), query.cursor, query.size)
        found = self._results.peek(key)
        if found is None:
            found = self._results.put(key, self._search(query))
        return found

    def _search(self, query: SearchQuery) -> Results:
        conn = self._conn()
        if not self.table.loaded:
            with self._write_lock:  # no sync half-way: the postings match the rows read
                if not self.table.loaded:
                    self.table.load(conn, self._meta(conn, "epoch"))
        mask = self._mask(conn, query)
        newer = query.cursor is not None and query.cursor[0] == NEWER
        rows = result_set.page(conn, self.table, mask,
                               query.cursor[1:] if query.cursor else None, newer, query.size + 1)
        more = len(rows) > query.size
        rows = rows[:query.size]
        if newer and not more:
            # Back at the newest rows: that is the first page, asked from the top so
            # that pages keep their boundaries whichever way a reader walks.
            return self._search(dataclasses.replace(query, cursor=None))
        if newer:
            rows.reverse()
            has_newer, has_older = more, True
        else:
            has_newer, has_older = query.cursor is not None, more
        next_cursor = prev_cursor = None
        if rows and has_older:
            next_cursor = encode_page_cursor(OLDER, rows[-1][8], rows[-1][9])
        if rows and has_newer:
            prev_cursor = encode_page_cursor(NEWER, rows[0][8], rows[0][9])
        total, facets = self._facets(query, mask)
        return Results([_hit(r) for r in rows], total, facets, next_cursor, prev_cursor)

    def _mask(self, conn: sqlite3.Connection, query: SearchQuery) -> Mask | None:
        """The result set of ``query`` (None: every doc), kept per index generation."""
        key = (self.generation, query.key())
        found = self._masks.peek(key)
        if found is None:
            found = result_set.matches(conn, self.table, self._match(query.terms), query)
            if found is not None:
                self._masks.put(key, found)
        return found

    def _facets(self, query: SearchQuery,
                mask: Mask | None) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """Counts per facet value over the whole result set (cached per index state):
        in-memory postings against the result mask, no facet row read."""
        key = (self.generation, query.key())
        cached = self._counts.peek(key)
        if cached is not None and cached[0] == self.generation:
            return cached[2], cached[1]
        if mask is None:
            total = self._conn().execute("SELECT count(*) FROM docs").fetchone()[0]
        else:
            total = int(np.count_nonzero(mask))
        counts = self.table.counts(FACETS, mask)
        for facet, values in counts.items():
            values.sort(key=lambda fv: (-fv[1], fv[0]))
            del values[FACET_VALUES:]
        self._counts.put(key, (self.generation, counts, total))
        return total, counts

    def located(self, query: SearchQuery) -> tuple[list[int], list[float], list[float]]:
        """(doc ids, longitudes, latitudes) of every result of ``query`` that has
        coordinates, newest written first: a map counts them all in its cells
        (``explorer.map.grid``) and names a few (:meth:`located_names`)."""
        conn = self._conn()
        if not self.table.loaded:
            self.sync(peers=False)
        mask = self._mask(conn, query)
        geo = self.table.union(GEO[0], [GEO[1]], self.table.max_id + 1)
        if mask is not None:
            geo = np.logical_and(geo, mask[:len(geo)])
        ids = json.dumps(np.flatnonzero(geo).tolist())
        rows = conn.execute(
            "SELECT id, long, lat FROM docs WHERE id IN (SELECT value FROM json_each(?)) "
            "AND lat IS NOT NULL AND long IS NOT NULL ORDER BY id DESC", (ids,)).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def located_names(self, ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
        """doc id -> (IRI, node, titles as JSON), for the markers and cluster labels of
        a map (a few hundred ids, one query)."""
        rows = self._conn().execute(
            "SELECT id, iri, node, titles FROM docs WHERE id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(sorted(set(ids))),))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def hit(self, iri: str) -> Hit | None:
        """The indexed resource ``iri``, if any."""
        row = self._conn().execute(f"SELECT {_HIT} FROM docs d WHERE d.iri = ?",
                                   (iri,)).fetchone()
        return _hit(row) if row else None

    def hits(self, iris: Iterable[str]) -> dict[str, Hit]:
        """IRI -> indexed resource, for those of ``iris`` the index holds."""
        unique = list(dict.fromkeys(iris))
        out: dict[str, Hit] = {}
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self._conn().execute(
                    f"SELECT {_HIT} FROM docs d WHERE d.iri IN ({marks})", chunk):
                out[row[0]] = _hit(row)
        return out

    def latest(self, count: int, *, kinds: Iterable[str] = ()) -> list[Hit]:
        """The ``count`` newest resources (of ``kinds`` when given)."""
        kinds = list(kinds)
        where = ("d.kind IN (" + ", ".join("?" * len(kinds)) + ")") if kinds else "1"
        rows = self._conn().execute(
            f"SELECT {_HIT} FROM docs d WHERE {where} ORDER BY d.sortkey DESC, d.id DESC "
            f"LIMIT ?", (*kinds, count)).fetchall()
        return [_hit(r) for r in rows]

    def kind_counts(self) -> list[tuple[str, int]]:
        """(kind IRI, number of resources) over the whole index, most first."""
        rows = self._conn().execute(
            "SELECT kind, count(*) FROM docs GROUP BY kind ORDER BY count(*) DESC, kind")
        return [(r[0], r[1]) for r in rows if r[0]]

    def labels(self, iris: Iterable[str]) -> dict[str, dict[str, str]]:
        """IRI -> {language: label} for the ``iris`` the index knows a label of."""
        out: dict[str, dict[str, str]] = {}
        conn = self._conn()
        unique = list(dict.fromkeys(iris))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for iri, lang, label in conn.execute(
                    f"SELECT iri, lang, label FROM labels WHERE iri IN ({marks})", chunk):
                out.setdefault(iri, {}).setdefault(lang, label)
        return out

    def incoming(self, iri: str, predicate: str, limit: int) -> list[Hit]:
        """Indexed resources that link to ``iri`` by ``predicate``, oldest first."""
        rows = self._conn().execute(
            f"SELECT {_HIT} FROM links l JOIN docs d ON d.id = l.doc WHERE l.object = ? "
            f"AND l.predicate = ? ORDER BY d.sortkey, d.id LIMIT ?",
            (iri, predicate, limit)).fetchall()
        return [_hit(r) for r in rows]

    def outgoing(self, iris: Iterable[str], predicate: str) -> dict[str, list[str]]:
        """IRI -> the IRIs it links to by ``predicate`` (itself or its fragments), for
        those of ``iris`` the index holds (the ``links_doc`` index: no scan)."""
        unique = list(dict.fromkeys(iris))
        out: dict[str, list[str]] = {}
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for iri, obj in self._conn().execute(
                    f"SELECT d.iri, l.object FROM docs d JOIN links l ON l.doc = d.id "
                    f"WHERE d.iri IN ({marks}) AND l.predicate = ? ORDER BY l.object",
                    (*chunk, predicate)):
                out.setdefault(iri, []).append(obj)
        return out

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _remove(conn: sqlite3.Connection, iri: str, table: FacetTable) -> None:
    row = conn.execute("SELECT id, lat, long, kind FROM docs WHERE iri = ?",
                       (iri,)).fetchone()
    if row is None:
        return
    doc = row[0]
    if row[3] == clusters.kind():
        clusters.untag_members(conn, iri, table)
    if table.loaded:
        pairs = conn.execute("SELECT facet, value FROM facets WHERE doc = ?", (doc,)).fetchall()
        table.remove(doc, pairs + ([GEO] if row[1] is not None and row[2] is not None else []))
    conn.execute("DELETE FROM docs WHERE id = ?", (doc,))
    conn.execute("DELETE FROM facets WHERE doc = ?", (doc,))
    conn.execute("DELETE FROM terms WHERE rowid = ?", (doc,))
    conn.execute("DELETE FROM labels WHERE doc = ?", (doc,))
    conn.execute("DELETE FROM links WHERE doc = ?", (doc,))


def _put(conn: sqlite3.Connection, doc: Doc, table: FacetTable, base: str) -> None:
    _remove(conn, doc.iri, table)
    sortkey = doc.date or doc.modified
    cursor = conn.execute(
        "INSERT INTO docs (iri, node, kind, titles, summaries, date, sortkey, lat, long) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (doc.iri, doc.node, doc.kind, json.dumps(doc.titles, ensure_ascii=False),
         json.dumps(doc.summaries, ensure_ascii=False), doc.date, sortkey[:64], doc.lat,
         doc.long))
    rowid = cursor.lastrowid
    # The analysis topics naming it (derived rows: ddsnode.explorer.clusters).
    facets = doc.facets + clusters.naming(conn, doc.iri, doc.node, base)
    conn.executemany("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
                     [(f, v, rowid) for f, v in facets])
    located = doc.lat is not None and doc.long is not None
    table.add(int(rowid or 0), facets + ([GEO] if located else []))
    all_terms: list[str] = []
    vocabulary: dict[str, str] = {}
    for lang, text in doc.texts:
        terms, more = index_terms(text, (lang or "").split("-")[0].lower() or None)
        all_terms += terms
        vocabulary.update(more)
    conn.execute("INSERT INTO terms (rowid, words) VALUES (?, ?)",
                 (rowid, " ".join(all_terms)))
    conn.executemany("INSERT OR IGNORE INTO vocab VALUES (?, ?)", vocabulary.items())
    conn.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?, ?, ?)",
                     [(iri, lang, label, rowid) for iri, lang, label in doc.labels])
    conn.executemany("INSERT OR IGNORE INTO links VALUES (?, ?, ?)",
                     [(o, p, rowid) for p, o in doc.links])
    if doc.kind == clusters.kind():
        clusters.tag_members(conn, doc.iri, doc.node,
                             (o for p, o in doc.links if p == clusters.member()), table,
                             anywhere=doc.node == base)


__all__ = ["Hit", "Results", "SearchIndex", "words"]
