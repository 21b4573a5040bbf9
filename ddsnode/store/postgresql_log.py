"""The PostgreSQL change log as the SPARQL index replays it (``store/index.py``).

Each node process runs its own index worker, which keeps an in-memory pyoxigraph store
current by replaying this log: the changes after the last one it applied, and the current
N-Triples of each changed IRI, read in one ``REPEATABLE READ`` snapshot so the marker the
index moves matches the states it wrote. Changes are numbered in commit order without
gaps (``postgresql.py``), so "after the last one applied" never skips a change.
"""

from __future__ import annotations

from typing import Any

from ddsnode.store.postgresql_schema import connect

CONNECT_TIMEOUT = 10.0


class PostgresqlLog:
    """A change source for the index worker, over one connection (reopened if it breaks)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = connect(url, connect_timeout=CONNECT_TIMEOUT)

    def _connection(self) -> Any:
        if self.conn.closed or self.conn.broken:
            self.conn = connect(self.url, connect_timeout=CONNECT_TIMEOUT)
        return self.conn

    def latest(self) -> int:
        """The seq of the last committed change."""
        conn = self._connection()
        return int(conn.execute("SELECT seq FROM log_head WHERE id = 1").fetchone()[0])

    def read(self, after: int, limit: int) -> tuple[list[tuple[int, str]],
                                                     dict[str, tuple[str, str] | None]]:
        """Changes after ``after`` and the current state of their IRIs, in one snapshot."""
        conn = self._connection()
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            rows = [(int(s), str(i)) for s, i in conn.execute(
                "SELECT seq, iri FROM changes WHERE seq > %s ORDER BY seq LIMIT %s",
                (after, limit)).fetchall()]
            iris = sorted({iri for _, iri in rows})
            states: dict[str, tuple[str, str] | None] = dict.fromkeys(iris)
            for iri, kind, nt in conn.execute(
                    "SELECT iri, kind, ntriples FROM resources WHERE iri = ANY(%s)", (iris,)):
                states[iri] = (kind, bytes(nt).decode("utf-8"))
            conn.execute("COMMIT")
        except BaseException:
            if not conn.broken:
                conn.execute("ROLLBACK")
            raise
        return rows, states
