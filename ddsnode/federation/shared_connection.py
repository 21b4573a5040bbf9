"""The sqlite3 calls the federation table owners make, over a psycopg connection.

``federation/database.py`` keeps the shared federation tables in the node's PostgreSQL
database when ``store = "postgresql"``; their owners' SQL is SQLite's and stays so. This
module gives it what it needs there: ``?`` placeholders as ``%s``, the two functions
PostgreSQL spells otherwise (:data:`SPELLINGS`), ``with conn:`` as one transaction, and
an unreachable database as a 503 (``Unavailable``) rather than a driver error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from types import TracebackType
from typing import Any

from ddsnode.problem import Unavailable

__all__ = ["SPELLINGS", "SharedConnection", "postgresql_sql"]

log = logging.getLogger(__name__)

#: SQLite spellings of the owners' SQL that PostgreSQL spells otherwise.
SPELLINGS = (("instr(", "strpos("), ("max(cursor, ", "greatest(cursor, "))


@cache
def postgresql_sql(sql: str) -> str:
    """An owner's SQLite statement for psycopg: ``?`` -> ``%s``, :data:`SPELLINGS`."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    for sqlite, postgresql in SPELLINGS:
        sql = sql.replace(sqlite, postgresql)
    return sql


class SharedConnection:
    """A psycopg connection answering the sqlite3 calls the table owners make. A database
    that cannot be reached is a 503 (``Unavailable``); a connection the server closed
    (it restarted) is replaced, and a statement outside a transaction tried once more."""

    def __init__(self, open_connection: Callable[[], Any]) -> None:
        self._open = open_connection
        self.conn = open_connection()
        self._depth = 0

    def _run(self, call: Callable[[Any], Any]) -> Any:
        from ddsnode.store.postgresql import database_errors
        for attempt in (1, 2):
            try:
                if self.conn.closed or self.conn.broken:
                    if self._depth:  # the transaction died with its connection
                        raise Unavailable("the database connection was lost; retry")
                    self.conn = self._open()
                return call(self.conn)
            except database_errors() as e:
                if attempt == 2 or self._depth or not (self.conn.closed or self.conn.broken):
                    log.warning("PostgreSQL unreachable: %s", str(e)[:500])
                    raise Unavailable(f"the database is unreachable ({type(e).__name__}); "
                                      "retry") from None
        raise AssertionError("unreachable")

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        """Run one statement; the cursor has ``fetchone``, ``fetchall``, ``rowcount``."""
        query, args = postgresql_sql(sql), tuple(params)
        return self._run(lambda conn: conn.execute(query, args))

    def executemany(self, sql: str, rows: Any) -> Any:
        """Run one statement for each row of parameters."""
        query, args = postgresql_sql(sql), [tuple(r) for r in rows]

        def run(conn: Any) -> Any:
            cursor = conn.cursor()
            cursor.executemany(query, args)
            return cursor
        return self._run(run)

    def __enter__(self) -> SharedConnection:
        # ``with conn:`` is one transaction, as sqlite3's (nested ones join the outer).
        if self._depth == 0:
            self._run(lambda conn: conn.execute("BEGIN"))
        self._depth += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0 and not (self.conn.closed or self.conn.broken):
            try:
                self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
            except Exception as e:  # noqa: BLE001 - any driver error: not acknowledged
                if kind is None:
                    raise Unavailable(f"the database could not commit ({type(e).__name__}); "
                                      "retry") from None
        elif self._depth == 0 and kind is None:
            raise Unavailable("the database connection was lost; nothing was committed")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
        self._open = _closed


def _closed() -> Any:
    # A write still queued while the node shuts down gets a 503 like any other
    # unreachable database, never an error the writer thread does not answer.
    raise Unavailable("the node is shutting down (federation database closed); retry")
