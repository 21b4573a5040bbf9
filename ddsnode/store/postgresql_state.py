"""The node state (``state.py``) in the node's PostgreSQL database: one table for every
process and machine of the node.

Tables (``postgresql_schema.py``, schema 2)::

    node_state   key -> value (bytea), the head version that last wrote it, when
    state_head   one row: the number of committed state changes

A commit runs in one transaction at ``READ COMMITTED``:

1. ``SELECT … FOR UPDATE`` the expected keys that exist, in key order (two commits over
   the same keys queue here; the order rules out deadlocks between them);
2. compare with ``expect``; a key expected absent is not locked (there is no row), so it
   is written with a plain ``INSERT``: of two commits expecting it absent, the second
   waits on the first's uncommitted row, then fails on the primary key — a lost
   compare-and-swap, answered False;
3. ``UPDATE state_head … RETURNING`` (its row lock orders state commits, so ``head``
   moves in commit order), write, ``COMMIT`` (``synchronous_commit = on``, set on
   every connection by ``postgresql_schema.connect``).

Plain PostgreSQL only: row locks, ``ON CONFLICT``, ``= ANY(array)``, ``bytea``; no
LISTEN/NOTIFY (readers read the table; :meth:`head` is one indexed row).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from ddsnode.problem import Unavailable
from ddsnode.store.state import NodeState, check_key, check_values

Connection = Callable[[], AbstractContextManager[Any]]


class PostgresqlState(NodeState):
    """The node state over a store's pooled connections (``PostgresqlStore._connection``:
    an unreachable database is a 503 ``Unavailable``)."""

    def __init__(self, connection: Connection, *, on_close: Callable[[], None] | None = None
                 ) -> None:
        self._connection = connection
        self._on_close = on_close

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        for attempt in (1, 2):
            try:
                with self._connection() as conn:
                    return list(conn.execute(sql, params).fetchall())
            except Unavailable:
                # A pooled connection the server closed (it restarted): one more, fresh.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None (the latest committed one)."""
        rows = self._read("SELECT value FROM node_state WHERE key = %s", (check_key(key),))
        return bytes(rows[0][0]) if rows else None

    def items(self, prefix: str, *, after: str = "",
              limit: int | None = None) -> list[tuple[str, bytes]]:
        """(key, value) under ``prefix`` after ``after``, in key order (byte order:
        ``COLLATE "C"``), at most ``limit``."""
        rows = self._read('SELECT key, value FROM node_state WHERE left(key, %s) = %s '
                          'AND key COLLATE "C" > %s ORDER BY key COLLATE "C" LIMIT %s',
                          (len(prefix), prefix, after, limit))
        return [(str(k), bytes(v)) for k, v in rows]

    def head(self) -> int:
        """The number of committed state changes."""
        return int(self._read("SELECT version FROM state_head WHERE id = 1", ())[0][0])

    def commit(self, expect: Mapping[str, bytes | None],
               values: Mapping[str, bytes | None]) -> bool:
        """Compare ``expect`` and write ``values`` in one transaction (module docstring)."""
        import psycopg

        check_values(expect, values)
        with self._connection() as conn:
            conn.execute("BEGIN")
            try:
                ok = self._commit(conn, expect, values)
            except psycopg.errors.UniqueViolation:
                ok = False  # another commit created a key this one expected absent
            except BaseException:
                if not conn.broken:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT" if ok else "ROLLBACK")
            return ok

    @staticmethod
    def _commit(conn: Any, expect: Mapping[str, bytes | None],
                values: Mapping[str, bytes | None]) -> bool:
        present = {str(k): bytes(v) for k, v in conn.execute(
            'SELECT key, value FROM node_state WHERE key = ANY(%s) ORDER BY key COLLATE "C" '
            "FOR UPDATE", (sorted(expect),)).fetchall()}
        if any(present.get(key) != wanted for key, wanted in expect.items()):
            return False
        if not values:
            return True
        version = int(conn.execute("UPDATE state_head SET version = version + 1 "
                                   "WHERE id = 1 RETURNING version").fetchone()[0])
        now = time.time()
        for key, value in sorted(values.items()):
            if value is None:
                conn.execute("DELETE FROM node_state WHERE key = %s", (key,))
            elif key in expect and expect[key] is None:
                conn.execute("INSERT INTO node_state VALUES (%s, %s, %s, %s)",
                             (key, value, version, now))
            else:
                conn.execute("INSERT INTO node_state VALUES (%s, %s, %s, %s) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                             "version = excluded.version, changed = excluded.changed",
                             (key, value, version, now))
        return True

    def close(self) -> None:
        """Close what this state opened itself (nothing when borrowed from a store)."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
