"""The statements of one write to the PostgreSQL store, and the tail before COMMIT.

``postgresql.py`` explains the locking: the resource row ``FOR UPDATE`` (compare and
swap), the container row ``FOR SHARE`` (no orphans), and change numbers taken from the
``log_head`` row just before ``COMMIT`` (:func:`number`), so they follow commit order.

Round trips are what a write costs (each one ~0.1–0.7 ms on localhost, far more than the
statements themselves), so statements travel in pipelines (libpq pipeline mode): a write
is two round trips — its reads (its row, its container's, a seq), then every change —
and a transaction's tail one more before the COMMIT. ``BEGIN``, ``SAVEPOINT`` and
``RELEASE`` are not sent on their own: :class:`Tx` keeps them until the next pipeline
(and drops a savepoint nothing was sent under).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ddsnode.problem import Conflict, Gone, NotFound
from ddsnode.store.base import StoredResource
from ddsnode.store.embedded import TAG_FIELDS, check_version, index_from_json, index_to_json

SEARCH_CHARS = 200_000  # text indexed for full-text search per resource (tsvector < 1 MiB)

# (SQL, parameters, many): ``many`` runs the statement once per row of parameters.
Statement = tuple[str, Sequence[Any], bool]


@dataclass
class Pending:
    """A change waiting for its number (given just before COMMIT)."""

    iri: str
    action: str
    at: datetime
    container: str | None
    types: tuple[str, ...]
    counts: list[tuple[str, int]]  # container -> change of its live members
    left: str | None = None  # the container a moved resource left (its stamp moves too)


class Tx:
    """This thread's open transaction: its connection, the transaction-control statements
    not sent yet, and its changes to number."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pending: list[Pending] = []
        self.deferred: list[str] = ["BEGIN"]
        self.savepoints = 0
        # Resources this transaction read (None: absent), until it writes them: the node
        # reads a write's container and target several times per request, and a batch
        # then sees one state of them, as on SQLite (whose batch holds the write lock).
        # Compare and swap is unaffected: put/delete lock and check the row itself.
        self.reads: dict[str, Any] = {}

    def run(self, statements: Sequence[Statement]) -> list[list[Any]]:
        """Send what is deferred and ``statements`` in one round trip; each one's rows."""
        conn = self.conn
        cursors = []
        with conn.pipeline():
            for sql in self.deferred:
                conn.execute(sql)
            self.deferred.clear()
            for sql, params, many in statements:
                cur = conn.cursor()
                if many:
                    if params:
                        cur.executemany(sql, params)
                else:
                    cur.execute(sql, params)
                cursors.append(cur)
        return [cur.fetchall() if cur.description is not None else [] for cur in cursors]

    def one(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """The rows of one statement (with what is deferred, one round trip)."""
        return self.run([(sql, params, False)])[0]

    def begin_savepoint(self) -> str:
        """A savepoint, sent with the next statement; its name."""
        self.savepoints += 1
        name = f"s{self.savepoints}"
        self.deferred.append(f"SAVEPOINT {name}")
        return name

    def unsent(self, name: str) -> bool:
        """True (and forget it, with everything after it) when savepoint ``name`` was
        never sent: nothing was written under it, so there is nothing to undo or release."""
        opening = f"SAVEPOINT {name}"
        if opening not in self.deferred:
            return False
        del self.deferred[self.deferred.index(opening):]
        return True

    def release(self, name: str) -> None:
        """The block of savepoint ``name`` succeeded."""
        if not self.unsent(name):
            self.deferred.append(f"RELEASE SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        """Undo what was written under savepoint ``name`` (sent: it was used)."""
        self.deferred.clear()  # releases of savepoints inside it: gone with it
        self.reads.clear()  # some may be of writes undone here
        self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self.conn.execute(f"RELEASE SAVEPOINT {name}")

    def commit(self) -> None:
        """Number the changes (:func:`number`) and COMMIT; nothing to send if nothing was."""
        if self.deferred[:1] == ["BEGIN"]:  # nothing was sent: no transaction to end
            self.deferred.clear()
            return
        number(self, self.pending)


def put(tx: Tx, r: StoredResource, expect_version: int | None) -> StoredResource:
    """Create or replace ``r``: two round trips."""
    tx.reads.pop(r.iri, None)
    row_, parent_, seq_ = tx.run([
        ("SELECT seq, kind, version, container FROM resources WHERE iri = %s FOR UPDATE",
         (r.iri,), False),
        ("SELECT kind FROM resources WHERE iri = %s FOR SHARE", (r.container or "",), False),
        ("SELECT nextval('resource_seq')", (), False)])  # used by a create only: gaps are fine
    row: Any = row_[0] if row_ else None
    live = row is not None and row[1] != "tombstone"
    check_version(r.iri, int(row[2]) if live else 0, expect_version)
    if r.container is not None and (not parent_ or parent_[0][0] != "container"):
        raise Conflict(f"container {r.container} of {r.iri} does not exist")
    version = (int(row[2]) if row else 0) + 1
    counts: list[tuple[str, int]] = []
    left = None
    if not live or row[3] != r.container:
        if live and row[3] is not None:
            counts.append((row[3], -1))
            left = row[3]
        if r.container is not None:
            counts.append((r.container, +1))
    i = r.index
    search = (f"{i.title} {i.text}"[:SEARCH_CHARS].replace("\x00", " ")
              if i.title or i.text else None)
    values = (r.iri, r.container, r.kind, version, r.created.isoformat(),
              r.modified.isoformat(), r.ntriples.encode("utf-8"), r.binary, r.binary_type,
              index_to_json(i), i.platform, i.lat, i.long, i.date, bool(r.representations),
              search)
    statements: list[Statement] = []
    if live:
        seq = int(row[0])
        statements += _clear_derived(seq)
        statements.append((
            ("UPDATE resources SET iri = %s, container = %s, kind = %s, version = %s, "
            "created = %s, modified = %s, ntriples = %s, bytes = %s, binary_type = %s, "
            "index_json = %s, platform = %s, lat = %s, long = %s, date = %s, reps = %s, "
            "search = to_tsvector('simple', %s) WHERE seq = %s"), (*values, seq), False))
    else:
        if row is not None:  # re-create over a tombstone: a new seq, newest in listings
            statements += _clear_derived(int(row[0]))
            statements.append(("DELETE FROM resources WHERE seq = %s", (row[0],), False))
        seq = int(seq_[0][0])
        statements.append((
            ("INSERT INTO resources (iri, container, kind, version, created, modified, "
            "ntriples, bytes, binary_type, index_json, platform, lat, long, date, reps, "
            "search, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, to_tsvector('simple', %s), %s)"), (*values, seq), False))
    statements.append(_representations(seq, r))
    if r.container is not None:
        tags = [(f, v, r.container, seq) for f, attr in TAG_FIELDS.items()
                for v in set(getattr(i, attr))]
        if i.platform:
            tags.append(("platform", i.platform, r.container, seq))
        statements.append(("INSERT INTO tags VALUES (%s, %s, %s, %s)", tags, True))
    tx.run(statements)
    tx.pending.append(Pending(r.iri, "update" if live else "create", r.modified,
                              r.container, i.types, counts, left))
    return dataclasses.replace(r, version=version, seq=seq)


def delete(tx: Tx, iri: str, tombstone: StoredResource, expect_version: int | None) -> None:
    """Replace ``iri`` by ``tombstone``: two or three round trips."""
    tx.reads.pop(iri, None)
    rows = tx.one("SELECT seq, kind, version, container, index_json FROM resources "
                  "WHERE iri = %s FOR UPDATE", (iri,))
    if not rows:
        raise NotFound(f"no resource at {iri}")
    seq, kind, version, container, index_json = rows[0]
    if kind == "tombstone":
        raise Gone(f"{iri} was already deleted")
    check_version(iri, int(version), expect_version)
    # A new child holds its container's row FOR SHARE until it commits: our FOR UPDATE
    # above waited for it, so this sees it.
    if kind == "container" and tx.one(
            "SELECT 1 FROM resources WHERE container = %s AND kind <> 'tombstone' LIMIT 1",
            (iri,)):
        raise Conflict(f"container {iri} still has members")
    tx.run([*_clear_derived(seq), (
        ("UPDATE resources SET kind = 'tombstone', version = %s, created = %s, modified = %s, "
        "ntriples = %s, bytes = NULL, binary_type = NULL, index_json = %s, platform = NULL, "
        "lat = NULL, long = NULL, date = NULL, reps = %s, search = NULL WHERE seq = %s"),
        (int(version) + 1, tombstone.created.isoformat(), tombstone.modified.isoformat(),
         tombstone.ntriples.encode("utf-8"), index_to_json(tombstone.index),
         bool(tombstone.representations), seq), False), _representations(seq, tombstone)])
    tx.pending.append(Pending(iri, "delete", tombstone.modified, container,
                              index_from_json(index_json).types,
                              [(container, -1)] if container is not None else []))


def number(tx: Tx, pending: list[Pending]) -> None:
    """Give the transaction's changes their numbers, write the log, member counts and
    stamps, and COMMIT, in one round trip: the serialised tail. Its first statement locks
    the log_head row until the COMMIT ends, so numbers follow commit order; the others
    read the new head (their own write) and number the changes below it."""
    if not pending:
        tx.run([("COMMIT", (), False)])
        return
    total = len(pending)
    head = "(SELECT seq FROM log_head WHERE id = 1)"
    stamps: dict[str, int] = {}
    counts: dict[str, int] = {}
    log = []
    for n, p in enumerate(pending, start=1):  # change n is head - total + n
        log.append((total - n, p.iri, p.action, p.at.isoformat(), p.container,
                    json.dumps(list(p.types))))
        for container in (p.container, p.left):
            if container is not None:
                stamps[container] = total - n
        for container, delta in p.counts:
            counts[container] = counts.get(container, 0) + delta
    tx.run([("UPDATE log_head SET seq = seq + %s WHERE id = 1", (total,), False),
            (f"INSERT INTO changes VALUES ({head} - %s, %s, %s, %s, %s, %s)", log, True),
            (f"INSERT INTO stamps VALUES (%s, {head} - %s) ON CONFLICT (container) "
             "DO UPDATE SET seq = excluded.seq", sorted(stamps.items()), True),
            ("INSERT INTO members VALUES (%s, %s) ON CONFLICT (container) "
             "DO UPDATE SET live = members.live + excluded.live", sorted(counts.items()), True),
            ("COMMIT", (), False)])


def _clear_derived(seq: int) -> list[Statement]:
    return [("DELETE FROM representations WHERE seq = %s", (seq,), False),
            ("DELETE FROM tags WHERE seq = %s", (seq,), False)]


def _representations(seq: int, r: StoredResource) -> Statement:
    return ("INSERT INTO representations VALUES (%s, %s, %s, %s)",
            [(seq, m, rep.etag, rep.body) for m, rep in r.representations.items()], True)
