"""The import ledger: what each import wrote, so a re-import writes only what changed.

``DIR/imports.db`` (SQLite, WAL) has one row per imported resource: the platform, the
ledger kind (``proposals``, ``proposal_answers``, ``meeting_comments`` ...), the Decidim
id, the IRI and the SHA-256 of the document as mapped (without ``importedAt``). A row of
a later import whose hash is unchanged, and whose resource is still live in the store,
is *unchanged* and not written. Rows of a kind that no longer appear are the candidates
for tombstones. The ledger holds no personal data: participants are keyed by pseudonym.

On ``store = "postgresql"`` the same rows are the tables ``import_ledger`` and
``import_runs`` of the node's database (``postgresql_schema.py``), so an import run from
any machine of the node knows what earlier imports wrote (and tombstones what
disappeared). A directory's ``imports.db`` from before the move is copied in when the
ledger opens (rows already in the database win).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from ddsnode.settings import Settings

LEDGER_FILE = "imports.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS imported (
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,
    ident TEXT NOT NULL,
    iri TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (platform, kind, ident)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    source TEXT NOT NULL,
    started TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""


#: The statements of both backends: SQLite's, and PostgreSQL's tables and spelling.
_SQL = {
    False: {"entries": "SELECT kind, ident, iri, hash FROM imported WHERE platform = ?",
            "record": "INSERT OR REPLACE INTO imported VALUES (?, ?, ?, ?, ?)",
            "forget": "DELETE FROM imported WHERE platform = ? AND kind = ? AND ident = ?",
            "run": "INSERT INTO runs (platform, source, started, summary) VALUES (?, ?, ?, ?)",
            "elsewhere": "SELECT 1 FROM imported WHERE iri = ? AND platform != ? LIMIT 1"},
    True: {"entries": "SELECT kind, ident, iri, hash FROM import_ledger WHERE platform = %s",
           "record": "INSERT INTO import_ledger VALUES (%s, %s, %s, %s, %s) ON CONFLICT "
                     "(platform, kind, ident) DO UPDATE SET iri = excluded.iri, "
                     "hash = excluded.hash",
           "forget": "DELETE FROM import_ledger WHERE platform = %s AND kind = %s AND "
                     "ident = %s",
           "run": "INSERT INTO import_runs (platform, source, started, summary) "
                  "VALUES (%s, %s, %s, %s)",
           "elsewhere": "SELECT 1 FROM import_ledger WHERE iri = %s AND platform != %s "
                        "LIMIT 1"},
}


class Ledger:
    """The ledger of one node, read into memory per platform: ``DIR/imports.db``, or the
    node's PostgreSQL database (``settings`` default to the directory's own)."""

    def __init__(self, node_dir: Path, *, settings: Settings | None = None) -> None:
        settings = settings if settings is not None else Settings.load(node_dir)
        self._pg = settings.store == "postgresql"
        self._sql = _SQL[self._pg]
        self._pending = 0
        self._in_tx = False
        self._db: Any
        if self._pg:
            from ddsnode.store import open_store
            from ddsnode.store.postgresql_schema import connect
            open_store(settings).close()  # the tables exist (schema 2)
            self._db = connect(str(settings.database_url), connect_timeout=10.0)
            if (node_dir / LEDGER_FILE).exists():
                self._copy(node_dir / LEDGER_FILE)
            return
        self._db = sqlite3.connect(node_dir / LEDGER_FILE, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def _copy(self, path: Path) -> None:
        """Entries of a directory's imports.db from before the move (database rows win)."""
        with closing(sqlite3.connect(path, timeout=30.0)) as old:
            rows = old.execute("SELECT platform, kind, ident, iri, hash FROM imported").fetchall()
        if rows:
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO import_ledger VALUES (%s, %s, %s, %s, %s) "
                                   "ON CONFLICT DO NOTHING", rows)

    def _write(self, key: str, params: tuple[str, ...]) -> None:
        if self._pg and not self._in_tx:
            self._db.execute("BEGIN")  # batched, as SQLite's implicit transaction is
            self._in_tx = True
        self._db.execute(self._sql[key], params)

    def entries(self, platform: str) -> dict[tuple[str, str], tuple[str, str]]:
        """(kind, id) -> (iri, hash) of everything imported from ``platform``."""
        rows = self._db.execute(self._sql["entries"], (platform,)).fetchall()
        return {(kind, ident): (iri, digest) for kind, ident, iri, digest in rows}

    def record(self, platform: str, kind: str, ident: str, iri: str, digest: str) -> None:
        """Remember that ``iri`` now holds the document with ``digest``."""
        self._write("record", (platform, kind, ident, iri, digest))
        self._tick()

    def forget(self, platform: str, kind: str, ident: str) -> None:
        """Drop an entry (its resource was tombstoned)."""
        self._write("forget", (platform, kind, ident))
        self._tick()

    def held_elsewhere(self, iri: str, platform: str) -> bool:
        """Whether an import other than ``platform`` also wrote ``iri`` (keep it then:
        election imports tombstone only what no other source holds)."""
        return self._db.execute(self._sql["elsewhere"], (iri, platform)).fetchone() is not None

    def log_run(self, platform: str, source: str, started: str, summary: str) -> None:
        """Keep a line about the run (for operators looking back)."""
        self._write("run", (platform, source, started, summary))
        self.commit()

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= 500:
            self.commit()

    def commit(self) -> None:
        """Make the recorded entries durable."""
        if not self._pg:
            self._db.commit()
        elif self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False
        self._pending = 0

    def close(self) -> None:
        """Commit and close."""
        self.commit()
        self._db.close()
