"""The embedded store: SQLite as the source of truth, pyoxigraph as a derived SPARQL index.

Every ``put``/``delete`` writes the resource row, its representations, its filter tags,
its full-text row and one change-log entry atomically, and is acknowledged when the
``COMMIT`` holding it returns (WAL, ``synchronous=FULL``: on disk). Concurrent writers
share transactions (group commit, :class:`_GroupCommit`): each write runs in its own
SAVEPOINT, so a failed compare-and-swap undoes only that write, and one fsync
acknowledges all of them.
Several processes may open the same directory (the CLI while the node runs); writers
serialise on SQLite's write lock, readers never block. The SPARQL index (``index.py``)
replays the change log and is opened lazily, by the first ``sparql()`` call, because only
one process may hold it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddsnode.problem import Conflict, Gone, NotFound, PreconditionFailed
from ddsnode.rdf.rdfterms import check_iri, check_ntriples
from ddsnode.store import readonly
from ddsnode.store.base import (
    NEWER,
    NO_FILTERS,
    OLDER,
    Change,
    Child,
    Filters,
    IndexFields,
    Page,
    QueryResult,
    Representation,
    Store,
    StoredResource,
    TransactionLost,
    keyset_page,
    parse_cursor,
)
from ddsnode.store.sqlite_schema import connect, create

if TYPE_CHECKING:  # imported when first used: loading it starts pyoxigraph
    from ddsnode.store.index import SparqlIndex

DB_FILE = "store.sqlite3"
INDEX_DIR = "index"

# The multi-valued filters kept in the ``tags`` table: Filters field -> IndexFields field.
TAG_FIELDS = {"type": "types", "topic": "topics", "state": "states", "area": "areas"}

_GET = ("SELECT seq, iri, container, kind, version, created, modified, ntriples, binary, "
        "binary_type, index_json, reps FROM resources WHERE iri = ?")
_GET_REPS = "SELECT media_type, etag, body FROM representations WHERE seq = ?"


class _Write:
    """One queued write: the work, then its result or its error."""

    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


class _GroupCommit:
    """Writers in many threads, one transaction and one fsync per batch.

    A writer queues its work; if no batch is running it becomes the leader: it takes
    every queued write, runs each in its own savepoint inside one transaction
    (:meth:`EmbeddedStore.transaction`, in queue order, so each sees the ones before it),
    commits once and wakes the others with their results. Writes that arrive while a
    batch commits (the fsync) make the next batch. Nothing is acknowledged before its
    COMMIT returns; if the COMMIT fails, or SQLite drops the transaction midway
    (``TransactionLost``), every write of the batch gets that error.
    """

    def __init__(self, store: EmbeddedStore) -> None:
        self._store = store
        self._cv = threading.Condition()
        self._queue: list[_Write] = []
        self._leading = False

    def run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``work(conn)`` atomically and durably; returns its result or raises its error."""
        job = _Write(work)
        with self._cv:
            self._queue.append(job)
            while self._leading and not job.done:
                self._cv.wait()
            if not job.done:
                self._leading = True
                batch, self._queue = self._queue, []
        if not job.done:
            try:
                self._commit(batch)
            finally:
                with self._cv:
                    for queued in batch:
                        queued.done = True
                    self._leading = False
                    self._cv.notify_all()
        if job.error is not None:
            raise job.error
        return job.result

    def _commit(self, batch: list[_Write]) -> None:
        store = self._store
        alone = len(batch) == 1  # the transaction is the write: no savepoint needed
        try:
            with store.transaction():
                conn = store._conn()
                for job in batch:
                    try:
                        with nullcontext() if alone else store.savepoint():  # this write only
                            job.result = job.work(conn)
                    except TransactionLost:
                        raise
                    except Exception as e:
                        job.error = e
                        if alone:
                            raise  # roll the transaction back
        except BaseException as e:
            for job in batch:  # nothing of the batch is stored
                job.result = None
                job.error = job.error or e
            if not isinstance(e, Exception):
                raise  # KeyboardInterrupt, SystemExit: the leader's thread stops too


class EmbeddedStore(Store):
    """SQLite + derived pyoxigraph index in one directory; needs no server."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.db_path = directory / DB_FILE
        self.index_dir = directory / INDEX_DIR
        self._local = threading.local()
        # Each connection with the thread that opened it (see close).
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._index: SparqlIndex | None = None  # imported lazily (starts pyoxigraph)
        self._group = _GroupCommit(self)
        create(self._conn())

    # -- connections ------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not be shared between
        # threads mid-transaction, and WAL lets per-thread readers run concurrently.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("store is closed")
            conn = connect(self.db_path)
            self._local.conn = conn
            with self._lock:
                self._connections.append((threading.current_thread(), conn))
        return conn

    @staticmethod
    @contextmanager
    def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
        """Several SELECTs that see one state (a deferred read transaction in WAL mode)."""
        if conn.in_transaction:  # inside a write: it is the snapshot
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection and stop the SPARQL index worker.

        Only the connections of this thread and of threads that have ended are closed
        here. Closing a connection while another thread is stepping a statement on it
        frees memory that statement still uses (the sqlite3 module does not lock a
        connection shared with ``check_same_thread=False``), and the process dies of a
        segmentation fault: a catalogue build still running in its thread when the node
        stops did exactly that. The connections of live threads are only let go: a
        statement in progress keeps its connection until it returns, the next call
        raises "store is closed", and the connection closes when its last reference goes.
        """
        self._closed = True
        if self._index is not None:
            self._index.close()
            self._index = None
        here = threading.current_thread()
        with self._lock:
            for owner, conn in self._connections:
                if owner is here or not owner.is_alive():
                    conn.close()
            self._connections.clear()
        self._local = threading.local()  # drops the other threads' references

    # -- reads ------------------------------------------------------------------------

    def get(self, iri: str) -> StoredResource | None:
        """The resource or its tombstone, or None (one primary-key lookup, and one for its
        stored representations when it has any: files)."""
        conn = self._conn()
        row = conn.execute(_GET, (iri,)).fetchone()
        if row is None:
            return None
        reps = {}
        if row[11]:
            # Two statements, one snapshot: a write replaces the row and its
            # representations together, under a new seq or the same one; re-read if the
            # row moved meanwhile.
            with self._snapshot(conn):
                row = conn.execute(_GET, (iri,)).fetchone()
                if row is None:
                    return None
                reps = {m: Representation(m, bytes(b), e)
                        for m, e, b in conn.execute(_GET_REPS, (row[0],))}
        return StoredResource(
            iri=row[1], container=row[2], kind=row[3], version=row[4],
            created=datetime.fromisoformat(row[5]), modified=datetime.fromisoformat(row[6]),
            ntriples=row[7], binary=row[8], binary_type=row[9],
            index=index_from_json(row[10]), seq=row[0], representations=reps)

    def children(self, container: str, *, after: str | None = None, limit: int = 50,
                 filters: Filters = NO_FILTERS) -> Page:
        """A keyset page of live members, newest first; never scans into memory."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        direction, bound = parse_cursor(after) if after else (OLDER, None)
        newer = direction == NEWER
        sql, params = _children_query(container, bound, limit + 1, filters, newer=newer)
        rows = self._conn().execute(sql, params).fetchall()
        page = keyset_page(rows, limit, bound, newer, seq=lambda r: int(r[0]), child=_child)
        return page or self.children(container, limit=limit, filters=filters)

    def count_children(self, container: str) -> int:
        """Exact count of live members (a counter kept by every write)."""
        row = self._conn().execute("SELECT live FROM members WHERE container = ?",
                                   (container,)).fetchone()
        return int(row[0]) if row else 0

    def container_stamp(self, container: str) -> int:
        """The seq of the last change to a member of ``container`` (0: none since the
        stamps table exists); every put and delete moves it, in the same transaction."""
        row = self._conn().execute("SELECT seq FROM stamps WHERE container = ?",
                                   (container,)).fetchone()
        return int(row[0]) if row else 0

    def changed_at(self, seq: int) -> datetime | None:
        """When change ``seq`` happened."""
        row = self._conn().execute("SELECT at FROM changes WHERE seq = ?", (seq,)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """Change-log entries with seq > after, oldest first."""
        rows = self._conn().execute(
            "SELECT seq, iri, action, at, container, types FROM changes WHERE seq > ? "
            "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [Change(seq=r[0], iri=r[1], action=r[2], at=datetime.fromisoformat(r[3]),
                       container=r[4], types=tuple(json.loads(r[5]))) for r in rows]

    def sparql(self, query: str, *, accept: Sequence[str], timeout: float,
               limit: int) -> QueryResult:
        """Run a guarded read-only query on the pyoxigraph index, caught up with the log."""
        form = readonly.check_query(query)
        return self.sparql_index().query(query, form=form, accept=accept, timeout=timeout,
                                          limit=limit)

    def sparql_index(self) -> SparqlIndex:
        """The SPARQL index handle (:class:`ddsnode.store.index.SparqlIndex`), started
        on first use: only one process may hold ``DIR/index/``."""
        with self._lock:
            if self._index is None:
                if self._closed:
                    raise RuntimeError("store is closed")
                from ddsnode.store.index import SparqlIndex
                self._index = SparqlIndex(self.db_path, self.index_dir)
            return self._index

    def sync_index(self, timeout: float = 600.0) -> int:
        """Bring the SPARQL index up to the change log now; returns the seq it reached."""
        return int(self.sparql_index().sync(timeout=timeout))

    # -- writes -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT`` around the block's writes on this thread
        (the node's writer thread runs a batch of requests in one): reads on this thread
        see them at once, other connections after the COMMIT (its one fsync)."""
        conn = self._conn()
        if getattr(self._local, "batching", False):
            yield  # already inside one: part of it
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.batching = True
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._local.batching = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A SAVEPOINT inside :meth:`transaction` (nothing outside one)."""
        if not getattr(self._local, "batching", False):
            yield
            return
        conn = self._conn()
        conn.execute("SAVEPOINT step")
        try:
            yield
        except BaseException as e:
            if not conn.in_transaction:
                raise TransactionLost(f"the transaction ended during a write: {e!r}") from e
            conn.execute("ROLLBACK TO step")
            conn.execute("RELEASE step")
            raise
        if not conn.in_transaction:  # an error the step swallowed ended it
            raise TransactionLost("the transaction ended during a write")
        conn.execute("RELEASE step")

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """``work(conn)`` in this thread's transaction if it has one, else group-committed."""
        if getattr(self._local, "batching", False):
            with self.savepoint():
                return work(self._conn())
        return self._group.run(work)

    def put(self, resource: StoredResource, *, expect_version: int | None = None) -> StoredResource:
        """Create or replace atomically; durable when it returns (or, inside
        :meth:`transaction`, when the transaction commits)."""
        stored: StoredResource = self._run(lambda conn: _put(conn, resource, expect_version))
        return stored

    def put_many(self, resources: Iterable[StoredResource]) -> list[StoredResource]:
        """Write many resources in one transaction (imports and benchmarks): all or none."""
        with self.transaction(), self.savepoint():
            conn = self._conn()
            return [_put(conn, r, None) for r in resources]

    def delete(self, iri: str, *, tombstone: StoredResource,
               expect_version: int | None = None) -> None:
        """Replace by ``tombstone``; NotFound if absent, Gone if already deleted,
        Conflict for a container that still has members."""
        if tombstone.kind != "tombstone":
            raise ValueError("delete() needs a resource of kind 'tombstone'")
        self._run(lambda conn: _delete(conn, iri, tombstone, expect_version))


# -- helpers shared with the index worker and the tests ---------------------------------


def _delete(conn: sqlite3.Connection, iri: str, tombstone: StoredResource,
            expect_version: int | None) -> None:
    row = conn.execute("SELECT seq, kind, version, container, index_json "
                       "FROM resources WHERE iri = ?", (iri,)).fetchone()
    if row is None:
        raise NotFound(f"no resource at {iri}")
    seq, kind, version, container, index_json = row
    if kind == "tombstone":
        raise Gone(f"{iri} was already deleted")
    check_version(iri, version, expect_version)
    if kind == "container" and conn.execute(
            "SELECT 1 FROM resources WHERE container = ? AND kind != 'tombstone' "
            "LIMIT 1", (iri,)).fetchone():
        raise Conflict(f"container {iri} still has members")
    _log(conn, iri, "delete", tombstone.modified, container,
         index_from_json(index_json).types)
    _count(conn, container, -1)
    _clear_derived(conn, seq)
    conn.execute(
        "UPDATE resources SET kind = 'tombstone', version = ?, created = ?, "
        "modified = ?, ntriples = ?, binary = NULL, binary_type = NULL, "
        "index_json = ?, platform = NULL, lat = NULL, long = NULL, date = NULL, reps = ? "
        "WHERE seq = ?",
        (version + 1, tombstone.created.isoformat(), tombstone.modified.isoformat(),
         tombstone.ntriples, index_to_json(tombstone.index),
         int(bool(tombstone.representations)), seq))
    _insert_representations(conn, seq, tombstone.representations)


def check_version(iri: str, current: int, expected: int | None) -> None:
    """Compare-and-swap check; ``current`` is 0 when there is no live resource."""
    if expected is None or expected == current:
        return
    if expected == 0:
        raise PreconditionFailed(f"{iri} already exists (version {current})")
    raise PreconditionFailed(f"{iri} is at version {current}, not {expected}")


def index_to_json(index: IndexFields) -> str:
    """IndexFields as compact JSON (its fields are flat: no need for asdict's deep copy)."""
    return json.dumps({f.name: getattr(index, f.name) for f in _INDEX_FIELDS},
                      separators=(",", ":"), ensure_ascii=False)


_INDEX_FIELDS = dataclasses.fields(IndexFields)


def index_from_json(text: str) -> IndexFields:
    """The inverse of :func:`index_to_json`; small ones (most) come from a cache, so a
    resource read often is parsed once (IndexFields is frozen: sharing it is safe)."""
    return _small_index(text) if len(text) <= 4096 else _index(text)


@lru_cache(maxsize=4096)  # at most 4096 × 4 KiB
def _small_index(text: str) -> IndexFields:
    return _index(text)


def _index(text: str) -> IndexFields:
    data: dict[str, Any] = json.loads(text)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                              for k, v in data.items()}
    return IndexFields(**fields)


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must occur (quoted, so no FTS syntax leaks)."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words) or '""'


def _put(conn: sqlite3.Connection, r: StoredResource,
         expect_version: int | None) -> StoredResource:
    if r.kind == "tombstone":
        raise ValueError("use delete() to write a tombstone")
    # The index parses what is stored here with pyoxigraph: a record it could not take is
    # refused (400) before commit, never acknowledged and failed later (issue 9 item 6).
    check_iri(r.iri)
    check_ntriples(r.ntriples, where=r.iri)
    row = conn.execute("SELECT seq, kind, version, container FROM resources WHERE iri = ?",
                       (r.iri,)).fetchone()
    live = row is not None and row[1] != "tombstone"
    # A tombstone counts as "absent" for expect_version=0, but versions keep counting
    # up across delete and re-create, so a stale ETag never matches again.
    check_version(r.iri, row[2] if live else 0, expect_version)
    if r.container is not None:
        parent = conn.execute("SELECT kind FROM resources WHERE iri = ?",
                              (r.container,)).fetchone()
        if parent is None or parent[0] != "container":
            raise Conflict(f"container {r.container} of {r.iri} does not exist")
    version = (row[2] if row else 0) + 1
    change = _log(conn, r.iri, "update" if live else "create", r.modified, r.container,
                  r.index.types)
    if not live or row[3] != r.container:
        _count(conn, row[3] if live else None, -1)
        _count(conn, r.container, +1)
        if live:
            _stamp(conn, row[3], change)  # it left that container
    i = r.index
    values = (r.iri, r.container, r.kind, version, r.created.isoformat(),
              r.modified.isoformat(), r.ntriples, r.binary, r.binary_type, index_to_json(i),
              i.platform, i.lat, i.long, i.date, int(bool(r.representations)))
    if live:
        seq = row[0]
        _clear_derived(conn, seq)
        conn.execute("UPDATE resources SET iri = ?, container = ?, kind = ?, version = ?, "
                     "created = ?, modified = ?, ntriples = ?, binary = ?, binary_type = ?, "
                     "index_json = ?, platform = ?, lat = ?, long = ?, date = ?, reps = ? "
                     "WHERE seq = ?", (*values, seq))
    else:
        if row is not None:  # re-create over a tombstone: a new seq, newest in listings
            _clear_derived(conn, row[0])
            conn.execute("DELETE FROM resources WHERE seq = ?", (row[0],))
        seq = change
        conn.execute("INSERT INTO resources (iri, container, kind, version, created, "
                     "modified, ntriples, binary, binary_type, index_json, platform, lat, "
                     "long, date, reps, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (*values, seq))
    _insert_representations(conn, seq, r.representations)
    if r.container is not None:
        tags = [(f, v, r.container, seq) for f, attr in TAG_FIELDS.items()
                for v in set(getattr(i, attr))]
        if i.platform:
            tags.append(("platform", i.platform, r.container, seq))
        if tags:
            conn.executemany("INSERT INTO tags VALUES (?,?,?,?)", tags)
    if i.title or i.text:
        conn.execute("INSERT INTO fulltext (rowid, title, text) VALUES (?,?,?)",
                     (seq, i.title, i.text))
    return dataclasses.replace(r, version=version, seq=seq)


def _child(row: tuple[Any, ...]) -> Child:
    # A page carries the index fields but not the full text: pages stay small.
    index = dataclasses.replace(index_from_json(row[4]), text="")
    return Child(iri=row[1], kind=row[2], types=index.types, title=index.title,
                 modified=datetime.fromisoformat(row[3]), index=index)


def _log(conn: sqlite3.Connection, iri: str, action: str, at: datetime,
         container: str | None, types: Sequence[str]) -> int:
    cur = conn.execute("INSERT INTO changes (iri, action, at, container, types) "
                       "VALUES (?,?,?,?,?)",
                       (iri, action, at.isoformat(), container, json.dumps(list(types))))
    seq = int(cur.lastrowid or 0)
    _stamp(conn, container, seq)
    return seq


def _stamp(conn: sqlite3.Connection, container: str | None, seq: int) -> None:
    if container is not None:
        conn.execute("INSERT INTO stamps VALUES (?, ?) ON CONFLICT (container) "
                     "DO UPDATE SET seq = excluded.seq", (container, seq))


def _count(conn: sqlite3.Connection, container: str | None, delta: int) -> None:
    if container is not None:
        conn.execute("INSERT INTO members VALUES (?, ?) ON CONFLICT (container) "
                     "DO UPDATE SET live = live + excluded.live", (container, delta))


def _clear_derived(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("DELETE FROM representations WHERE seq = ?", (seq,))
    conn.execute("DELETE FROM tags WHERE seq = ?", (seq,))
    conn.execute("DELETE FROM fulltext WHERE rowid = ?", (seq,))


def _insert_representations(conn: sqlite3.Connection, seq: int,
                            reps: dict[str, Representation]) -> None:
    conn.executemany("INSERT INTO representations VALUES (?,?,?,?)",
                     [(seq, m, rep.etag, rep.body) for m, rep in reps.items()])


def _children_query(container: str, bound: int | None, limit: int,
                    filters: Filters, *, newer: bool = False) -> tuple[str, list[Any]]:
    """SQL for one page, driven by the FTS5 index for a text filter, else by the (field,
    value, container, seq) tag index for a tag filter, else by the (container, seq)
    partial index; the other filters are checked per row. ORDER BY follows the driving
    index, so SQLite stops after ``limit`` matching rows and never sorts. Members with
    seq below ``bound``, newest first; with ``newer``, above it, oldest first."""
    cols = "r.seq, r.iri, r.kind, r.modified, r.index_json"
    tags = [(f, v) for f, v in (("type", filters.type), ("topic", filters.topic),
                                 ("state", filters.state), ("area", filters.area),
                                 ("platform", filters.platform)) if v]
    params: list[Any] = []
    if filters.text:
        # FTS5 walks its doclist in rowid (= seq) order and takes the rowid bound, so
        # the page stops after ``limit`` matches instead of collecting every match.
        sql = (f"SELECT {cols} FROM fulltext f JOIN resources r ON r.seq = f.rowid "
               "WHERE fulltext MATCH ? AND r.container = ? AND r.kind != 'tombstone'")
        params += [fts_query(filters.text), container]
        key = "f.rowid"
    elif tags:
        field, value = tags.pop(0)
        sql = (f"SELECT {cols} FROM tags t JOIN resources r ON r.seq = t.seq "
               "WHERE t.field = ? AND t.value = ? AND t.container = ?")
        params += [field, value, container]
        key = "t.seq"
    else:
        sql = f"SELECT {cols} FROM resources r WHERE r.container = ? AND r.kind != 'tombstone'"
        params.append(container)
        key = "r.seq"
    for field, value in tags:
        sql += (" AND EXISTS (SELECT 1 FROM tags x WHERE x.field = ? AND x.value = ? "
                "AND x.container = ? AND x.seq = r.seq)")
        params += [field, value, container]
    if bound is not None:
        sql += f" AND {key} {'>' if newer else '<'} ?"
        params.append(bound)
    if filters.bbox is not None:
        min_long, min_lat, max_long, max_lat = filters.bbox
        sql += " AND r.lat BETWEEN ? AND ? AND r.long BETWEEN ? AND ?"
        params += [min_lat, max_lat, min_long, max_long]
    if filters.date_from:
        sql += " AND r.date >= ?"
        params.append(filters.date_from)
    if filters.date_to:
        # Lexical ISO comparison; the \uffff suffix makes a bare date include its whole day.
        sql += " AND r.date <= ?"
        params.append(filters.date_to + "\uffff")
    sql += f" ORDER BY {key} {'ASC' if newer else 'DESC'} LIMIT ?"
    params.append(limit)
    return sql, params
