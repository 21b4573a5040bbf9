"""The statements of one write to the PostgreSQL store, and the tail before COMMIT.

``postgresql.py`` explains the locking: the resource row ``FOR UPDATE`` (compare and
swap), the container row ``FOR SHARE`` (no orphans), and change numbers taken from the
``log_head`` row just before ``COMMIT`` (:func:`number`), so they follow commit order.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ddsnode.problem import Conflict, Gone, NotFound
from ddsnode.store.base import Representation, StoredResource
from ddsnode.store.embedded import TAG_FIELDS, check_version, index_from_json, index_to_json

SEARCH_CHARS = 200_000  # text indexed for full-text search per resource (tsvector < 1 MiB)


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
    """This thread's open transaction: its connection and its changes to number."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pending: list[Pending] = []
        self.savepoints = 0


def put(tx: Tx, r: StoredResource, expect_version: int | None) -> StoredResource:
    conn = tx.conn
    row = conn.execute("SELECT seq, kind, version, container FROM resources WHERE iri = %s "
                       "FOR UPDATE", (r.iri,)).fetchone()
    live = row is not None and row[1] != "tombstone"
    check_version(r.iri, int(row[2]) if live else 0, expect_version)
    if r.container is not None:
        parent = conn.execute("SELECT kind FROM resources WHERE iri = %s FOR SHARE",
                              (r.container,)).fetchone()
        if parent is None or parent[0] != "container":
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
    if live:
        seq = int(row[0])
        _clear_derived(conn, seq)
        conn.execute("UPDATE resources SET iri = %s, container = %s, kind = %s, version = %s, "
                     "created = %s, modified = %s, ntriples = %s, bytes = %s, binary_type = %s, "
                     "index_json = %s, platform = %s, lat = %s, long = %s, date = %s, reps = %s, "
                     "search = to_tsvector('simple', %s) WHERE seq = %s", (*values, seq))
    else:
        if row is not None:  # re-create over a tombstone: a new seq, newest in listings
            _clear_derived(conn, int(row[0]))
            conn.execute("DELETE FROM resources WHERE seq = %s", (row[0],))
        seq = int(conn.execute("SELECT nextval('resource_seq')").fetchone()[0])
        conn.execute("INSERT INTO resources (iri, container, kind, version, created, modified, "
                     "ntriples, bytes, binary_type, index_json, platform, lat, long, date, "
                     "reps, search, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                     "%s, %s, %s, %s, to_tsvector('simple', %s), %s)", (*values, seq))
    _insert_representations(conn, seq, r.representations)
    if r.container is not None:
        tags = [(f, v, r.container, seq) for f, attr in TAG_FIELDS.items()
                for v in set(getattr(i, attr))]
        if i.platform:
            tags.append(("platform", i.platform, r.container, seq))
        if tags:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO tags VALUES (%s, %s, %s, %s)", tags)
    tx.pending.append(Pending(r.iri, "update" if live else "create", r.modified,
                               r.container, i.types, counts, left))
    return dataclasses.replace(r, version=version, seq=seq)


def delete(tx: Tx, iri: str, tombstone: StoredResource, expect_version: int | None) -> None:
    conn = tx.conn
    row = conn.execute("SELECT seq, kind, version, container, index_json FROM resources "
                       "WHERE iri = %s FOR UPDATE", (iri,)).fetchone()
    if row is None:
        raise NotFound(f"no resource at {iri}")
    seq, kind, version, container, index_json = row
    if kind == "tombstone":
        raise Gone(f"{iri} was already deleted")
    check_version(iri, int(version), expect_version)
    # A new child holds its container's row FOR SHARE until it commits: our FOR UPDATE
    # above waited for it, so this sees it.
    if kind == "container" and conn.execute(
            "SELECT 1 FROM resources WHERE container = %s AND kind <> 'tombstone' LIMIT 1",
            (iri,)).fetchone():
        raise Conflict(f"container {iri} still has members")
    tx.pending.append(Pending(iri, "delete", tombstone.modified, container,
                               index_from_json(index_json).types,
                               [(container, -1)] if container is not None else []))
    _clear_derived(conn, seq)
    conn.execute(
        "UPDATE resources SET kind = 'tombstone', version = %s, created = %s, modified = %s, "
        "ntriples = %s, bytes = NULL, binary_type = NULL, index_json = %s, platform = NULL, "
        "lat = NULL, long = NULL, date = NULL, reps = %s, search = NULL WHERE seq = %s",
        (int(version) + 1, tombstone.created.isoformat(), tombstone.modified.isoformat(),
         tombstone.ntriples.encode("utf-8"), index_to_json(tombstone.index),
         bool(tombstone.representations), seq))
    _insert_representations(conn, seq, tombstone.representations)


def number(conn: Any, pending: list[Pending]) -> None:
    """Give the transaction's changes their numbers and write the log, member counts and
    stamps: the serialised tail, just before COMMIT (the log_head row stays locked until
    the COMMIT ends, so numbers follow commit order)."""
    if not pending:
        return
    last = int(conn.execute("UPDATE log_head SET seq = seq + %s WHERE id = 1 RETURNING seq",
                            (len(pending),)).fetchone()[0])
    first = last - len(pending) + 1
    stamps: dict[str, int] = {}
    counts: dict[str, int] = {}
    log = []
    for n, p in enumerate(pending):
        seq = first + n
        log.append((seq, p.iri, p.action, p.at.isoformat(), p.container,
                    json.dumps(list(p.types))))
        for container in (p.container, p.left):
            if container is not None:
                stamps[container] = seq
        for container, delta in p.counts:
            counts[container] = counts.get(container, 0) + delta
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO changes VALUES (%s, %s, %s, %s, %s, %s)", log)
        cur.executemany("INSERT INTO stamps VALUES (%s, %s) ON CONFLICT (container) "
                        "DO UPDATE SET seq = excluded.seq", sorted(stamps.items()))
        cur.executemany("INSERT INTO members VALUES (%s, %s) ON CONFLICT (container) "
                        "DO UPDATE SET live = members.live + excluded.live",
                        sorted(counts.items()))


def _clear_derived(conn: Any, seq: int) -> None:
    conn.execute("DELETE FROM representations WHERE seq = %s", (seq,))
    conn.execute("DELETE FROM tags WHERE seq = %s", (seq,))


def _insert_representations(conn: Any, seq: int, reps: dict[str, Representation]) -> None:
    if reps:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO representations VALUES (%s, %s, %s, %s)",
                            [(seq, m, rep.etag, rep.body) for m, rep in reps.items()])
