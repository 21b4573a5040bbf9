"""The PostgreSQL store: one database shared by every process (and machine) of a node.

Same contract as the embedded store (``base.py``), the same tables (``postgresql_schema``).

How each guarantee is kept, with plain PostgreSQL only:

* **Atomic, durable.** Each ``put``/``delete`` (or the writer's batch, ``transaction()``)
  is one transaction, acknowledged when its ``COMMIT`` returns (``synchronous_commit = on``
  on every connection). Each write in a batch runs in a ``SAVEPOINT``, so one that fails
  (412, 409 …) leaves no trace and the others commit.
* **Compare and swap across processes.** A write first locks the resource's row
  (``SELECT … FOR UPDATE``): of two writers holding the same version, the second waits for
  the first to commit, then reads the new version and fails (412). Two creates of a new
  IRI meet at the ``UNIQUE (iri)`` index: the loser's INSERT waits, fails, and is retried
  once, now as a write over an existing row (412 for ``If-None-Match: *``). A child locks
  its container's row ``FOR SHARE`` so a concurrent delete of the container cannot
  orphan it.
* **A change log in commit order.** The federation feed and every process's SPARQL index
  read ``changes WHERE seq > cursor``; a cursor must never pass a change that commits
  later. So change numbers are not taken when a write runs but just before ``COMMIT``,
  from the one ``log_head`` row, whose row lock is held until the COMMIT ends: numbers are
  gapless and in commit order. Only that tail (a few rows and the fsync) is serialised
  across processes; parsing, validating and writing rows run in parallel. Member counts
  and container stamps are written in the same tail.

Connections come from a small pool (``database_pool_size``). A lost database answers
503 (:class:`~ddsnode.problem.Unavailable`); a write whose COMMIT was interrupted may or
may not be stored, but it was never acknowledged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ddsnode.problem import BadRequest, Problem, Unavailable
from ddsnode.rdf.rdfterms import check_iri, check_ntriples
from ddsnode.store import readonly
from ddsnode.store.base import (
    NEWER,
    NO_FILTERS,
    OLDER,
    Change,
    Child,
    Filters,
    Page,
    QueryResult,
    Representation,
    Store,
    StoredResource,
    TransactionLost,
    keyset_page,
    parse_cursor,
)
from ddsnode.store.embedded import index_from_json
from ddsnode.store.postgresql_pages import children_query
from ddsnode.store.postgresql_schema import connect, create
from ddsnode.store.postgresql_writes import Tx, delete, put

if TYPE_CHECKING:  # imported when first used: loading it starts pyoxigraph
    from ddsnode.store.index import SparqlIndex

log = logging.getLogger(__name__)

POOL_WAIT_SECONDS = 10.0  # a request waits this long for a free pooled connection (503 after)

_GET = ("SELECT r.seq, r.iri, r.container, r.kind, r.version, r.created, r.modified, "
        "r.ntriples, r.bytes, r.binary_type, r.index_json, "
        "CASE WHEN r.reps THEN ARRAY(SELECT p.media_type FROM representations p "
        "WHERE p.seq = r.seq ORDER BY p.media_type) END, "
        "CASE WHEN r.reps THEN ARRAY(SELECT p.etag FROM representations p "
        "WHERE p.seq = r.seq ORDER BY p.media_type) END, "
        "CASE WHEN r.reps THEN ARRAY(SELECT p.body FROM representations p "
        "WHERE p.seq = r.seq ORDER BY p.media_type) END "
        "FROM resources r WHERE r.iri = %s")


def database_errors() -> tuple[type[BaseException], ...]:
    """The psycopg errors that mean "the database is unreachable" (503, retry)."""
    import psycopg
    return (psycopg.OperationalError, psycopg.InterfaceError)


class PostgresqlStore(Store):
    """The source of truth in PostgreSQL; a per-process pyoxigraph index for ``/sparql``."""

    def __init__(self, url: str, *, pool_size: int = 10, connect_timeout: float = 5.0) -> None:
        import psycopg

        self.url = url
        self.connect_timeout = connect_timeout
        self._errors = database_errors()
        self._unique = psycopg.errors.UniqueViolation
        self._database_error = psycopg.Error
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        self._index: SparqlIndex | None = None
        try:
            with self._connection() as conn:
                create(conn)
        except BaseException:
            self.close()
            raise

    # -- connections ------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection for one statement or transaction; a broken one is dropped,
        and "cannot reach the database" becomes 503."""
        if self._closed:
            raise RuntimeError("store is closed")
        if not self._slots.acquire(timeout=POOL_WAIT_SECONDS):
            raise Unavailable("every database connection is busy; retry")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = connect(self.url, connect_timeout=self.connect_timeout)
            yield conn
        except self._errors as e:
            # libpq's message names host, port, user and database, never the password:
            # for the operator's log; the client gets the class only.
            log.warning("PostgreSQL unreachable: %s", str(e)[:500])
            raise Unavailable(f"the database is unreachable ({type(e).__name__}); retry") \
                from None
        finally:
            if conn is not None:
                if conn.broken or conn.closed or self._closed:
                    conn.close()
                else:
                    self._idle.put(conn)
            self._slots.release()

    def _problem(self, e: BaseException, conn: Any) -> Problem:
        """The problem a database error of one write is: a value PostgreSQL cannot store
        (a NUL character in a literal) is the client's (400); a lost connection, a
        deadlock with another write or a cancelled statement are 503 (retry)."""
        import psycopg

        if isinstance(e, psycopg.DataError):
            return BadRequest("a value in this resource cannot be stored (PostgreSQL "
                              f"refuses it: {type(e).__name__})")
        if conn.broken:
            return Unavailable("the database connection was lost; nothing of this write "
                               "was acknowledged; retry")
        return Unavailable(f"the database could not run this write now ({type(e).__name__}); "
                           "retry")

    def _tx(self) -> Tx | None:
        tx: Tx | None = getattr(self._local, "tx", None)
        return tx

    def close(self) -> None:
        """Close the pooled connections and stop the SPARQL index worker."""
        self._closed = True
        if self._index is not None:
            self._index.close()
            self._index = None
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break

    # -- reads ------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        tx = self._tx()
        if tx is not None:  # inside a write: read what it wrote
            return tx.one(sql, params)
        for attempt in (1, 2):
            try:
                with self._connection() as conn:
                    return list(conn.execute(sql, params).fetchall())
            except Unavailable:
                # A pooled connection the server closed (it restarted): try a fresh one.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._rows(sql, params)

    def get(self, iri: str) -> StoredResource | None:
        """The resource or its tombstone, or None: one statement, so one snapshot."""
        tx = self._tx()
        if tx is not None and iri in tx.reads:
            found: StoredResource | None = tx.reads[iri]
            return found
        found = self._get(iri)
        if tx is not None:
            tx.reads[iri] = found
        return found

    def _get(self, iri: str) -> StoredResource | None:
        row = self._one(_GET, (iri,))
        if row is None:
            return None
        reps = {}
        if row[11] is not None:
            reps = {m: Representation(m, bytes(b), e)
                    for m, e, b in zip(row[11], row[12], row[13], strict=True)}
        return StoredResource(
            iri=row[1], container=row[2], kind=row[3], version=int(row[4]),
            created=datetime.fromisoformat(row[5]), modified=datetime.fromisoformat(row[6]),
            ntriples=bytes(row[7]).decode("utf-8"),
            binary=None if row[8] is None else bytes(row[8]), binary_type=row[9],
            index=index_from_json(row[10]), seq=int(row[0]), representations=reps)

    def children(self, container: str, *, after: str | None = None, limit: int = 50,
                 filters: Filters = NO_FILTERS) -> Page:
        """A keyset page of live members, newest first."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        direction, bound = parse_cursor(after) if after else (OLDER, None)
        newer = direction == NEWER
        sql, params = children_query(container, bound, limit + 1, filters, newer=newer)
        rows = self._all(sql, params)
        page = keyset_page(rows, limit, bound, newer, seq=lambda r: int(r[0]), child=_child)
        return page or self.children(container, limit=limit, filters=filters)

    def count_children(self, container: str) -> int:
        """Exact count of live members (kept by every write's tail)."""
        row = self._one("SELECT live FROM members WHERE container = %s", (container,))
        return int(row[0]) if row else 0

    def container_stamp(self, container: str) -> int:
        """The seq of the last change to a member of ``container`` (0: none)."""
        row = self._one("SELECT seq FROM stamps WHERE container = %s", (container,))
        return int(row[0]) if row else 0

    def changed_at(self, seq: int) -> datetime | None:
        """When change ``seq`` happened."""
        row = self._one("SELECT at FROM changes WHERE seq = %s", (seq,))
        return datetime.fromisoformat(row[0]) if row else None

    def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """Change-log entries with seq > after, oldest first (a prefix of commit order)."""
        rows = self._all("SELECT seq, iri, action, at, container, types FROM changes "
                         "WHERE seq > %s ORDER BY seq LIMIT %s", (after, limit))
        return [Change(seq=int(r[0]), iri=r[1], action=r[2], at=datetime.fromisoformat(r[3]),
                       container=r[4], types=tuple(json.loads(r[5]))) for r in rows]

    def latest_change(self) -> int:
        """The seq of the last committed change (0: none)."""
        return int(self._one("SELECT seq FROM log_head WHERE id = 1", ())[0])

    def sparql(self, query: str, *, accept: Sequence[str], timeout: float,
               limit: int) -> QueryResult:
        """Run a guarded read-only query on this process's index, caught up with the log."""
        form = readonly.check_query(query)
        return self.sparql_index().query(query, form=form, accept=accept, timeout=timeout,
                                          limit=limit)

    def sparql_index(self) -> SparqlIndex:
        """This process's SPARQL index (:class:`ddsnode.store.index.SparqlIndex`, in
        memory), started on first use and rebuilt from the change log."""
        with self._lock:
            if self._index is None:
                if self._closed:
                    raise RuntimeError("store is closed")
                from ddsnode.store.index import DATABASE_URL_ENV, POSTGRESQL, SparqlIndex
                self._index = SparqlIndex(POSTGRESQL, None, {DATABASE_URL_ENV: self.url})
            return self._index

    def sync_index(self, timeout: float = 600.0) -> int:
        """Bring the SPARQL index up to the change log now; returns the seq it reached."""
        return int(self.sparql_index().sync(timeout=timeout))

    # -- writes -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around the block's writes on this thread; numbered and
        committed when the block ends (see the module docstring)."""
        if self._tx() is not None:
            yield  # already inside one: part of it
            return
        with self._connection() as conn:
            tx = Tx(conn)  # BEGIN goes with the first statement (postgresql_writes.Tx)
            self._local.tx = tx
            try:
                yield
                tx.commit()
            except BaseException as e:
                if not conn.broken and tx.deferred[:1] != ["BEGIN"]:
                    try:
                        conn.execute("ROLLBACK")
                    except self._errors:
                        pass
                if isinstance(e, (*self._errors, TransactionLost)):
                    raise self._problem(e, conn) from None
                raise
            finally:
                self._local.tx = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A SAVEPOINT inside :meth:`transaction` (nothing outside one); sent with the
        block's first statement, so a block that wrote nothing costs nothing."""
        tx = self._tx()
        if tx is None:
            yield
            return
        conn, mark = tx.conn, len(tx.pending)
        name = tx.begin_savepoint()
        try:
            yield
        except BaseException as e:
            del tx.pending[mark:]
            if conn.broken:  # the transaction is gone, and the writes of the batch with it
                raise TransactionLost(f"the database connection was lost: {e!r}") from e
            if tx.unsent(name):  # nothing was sent under it: nothing to undo
                if isinstance(e, self._database_error) and not isinstance(e, self._unique):
                    raise self._problem(e, conn) from None
                raise
            try:
                tx.rollback_to(name)
            except self._errors as e2:
                raise TransactionLost(f"the transaction ended during a write: {e2!r}") from e
            if isinstance(e, self._database_error) and not isinstance(e, self._unique):
                raise self._problem(e, conn) from None  # this write only: 400 or 503
            raise
        tx.release(name)

    def _write(self, work: Any) -> Any:
        """``work(tx)`` in this thread's transaction (in a savepoint), or in its own."""
        with self.transaction():
            tx = self._tx()
            assert tx is not None
            for attempt in (1, 2):
                try:
                    with self.savepoint():
                        return work(tx)
                except self._unique:
                    # A concurrent create of the same IRI committed first: the second
                    # attempt sees its row (412 for a create-only write).
                    if attempt == 2:
                        raise Unavailable("a concurrent write to the same IRI; retry") \
                            from None
        raise AssertionError("unreachable")

    def put(self, resource: StoredResource, *, expect_version: int | None = None) -> StoredResource:
        """Create or replace atomically; durable when it returns (or, inside
        :meth:`transaction`, when the transaction commits)."""
        if resource.kind == "tombstone":
            raise ValueError("use delete() to write a tombstone")
        # The index parses what is stored here with pyoxigraph: refuse (400) what it
        # could not take, before commit (as the embedded store does).
        check_iri(resource.iri)
        check_ntriples(resource.ntriples, where=resource.iri)
        stored: StoredResource = self._write(lambda tx: put(tx, resource, expect_version))
        return stored

    def delete(self, iri: str, *, tombstone: StoredResource,
               expect_version: int | None = None) -> None:
        """Replace by ``tombstone``; NotFound if absent, Gone if already deleted,
        Conflict for a container that still has members."""
        if tombstone.kind != "tombstone":
            raise ValueError("delete() needs a resource of kind 'tombstone'")
        self._write(lambda tx: delete(tx, iri, tombstone, expect_version))

    def loop_lease(self, seconds: float) -> Any:
        """The lease on the node's background loops (``postgresql_lease.LoopLease``)."""
        from ddsnode.store.postgresql_lease import LoopLease
        return LoopLease(self.url, retry_seconds=seconds, connect_timeout=self.connect_timeout)


def _child(row: tuple[Any, ...]) -> Child:
    index = dataclasses.replace(index_from_json(row[4]), text="")
    return Child(iri=row[1], kind=row[2], types=index.types, title=index.title,
                 modified=datetime.fromisoformat(row[3]), index=index)


__all__ = ["PostgresqlStore", "database_errors"]
