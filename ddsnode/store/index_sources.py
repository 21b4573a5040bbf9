"""Where the SPARQL index (``index.py``) reads the change log it replays.

A :class:`ChangeSource` gives the changes after the last one applied and, read in the
same snapshot, the current N-Triples of each changed IRI (replay writes current state, so
it is idempotent). The embedded store's source is its SQLite file (:class:`SqliteLog`);
the PostgreSQL store's is ``postgresql_log.PostgresqlLog``.
"""

from __future__ import annotations

import sqlite3
from typing import Protocol


class ChangeSource(Protocol):
    """Where the index reads the change log and the current state of changed resources."""

    def latest(self) -> int:
        """The seq of the last committed change (0: none)."""

    def read(self, after: int, limit: int) -> tuple[list[tuple[int, str]],
                                                     dict[str, tuple[str, str] | None]]:
        """Up to ``limit`` (seq, iri) changes after ``after`` and, read in the same
        snapshot, each changed IRI's current (kind, N-Triples) or None."""


class SqliteLog:
    """The embedded store's change log (SQLite, ``store.sqlite3``)."""

    def __init__(self, db_path: str) -> None:
        self.db = sqlite3.connect(db_path, timeout=30, isolation_level=None,
                                  check_same_thread=False)

    def latest(self) -> int:
        """The seq of the last committed change."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def read(self, after: int, limit: int) -> tuple[list[tuple[int, str]],
                                                     dict[str, tuple[str, str] | None]]:
        """Changes after ``after`` and the current state of their IRIs, in one snapshot."""
        self.db.execute("BEGIN")  # one snapshot: the marker matches the states read
        try:
            rows = self.db.execute("SELECT seq, iri FROM changes WHERE seq > ? ORDER BY seq "
                                   "LIMIT ?", (after, limit)).fetchall()
            states = {}
            for _, iri in rows:
                if iri not in states:
                    states[iri] = self.db.execute(
                        "SELECT kind, ntriples FROM resources WHERE iri = ?", (iri,)).fetchone()
        finally:
            self.db.execute("COMMIT")
        return rows, states
