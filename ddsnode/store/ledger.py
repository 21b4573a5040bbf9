"""The import ledger: what each import wrote, so a re-import writes only what changed.

``DIR/imports.db`` (SQLite, WAL) has one row per imported resource: the platform, the
ledger kind (``proposals``, ``proposal_answers``, ``meeting_comments`` ...), the Decidim
id, the IRI and the SHA-256 of the document as mapped (without ``importedAt``). A row of
a later import whose hash is unchanged, and whose resource is still live in the store,
is *unchanged* and not written. Rows of a kind that no longer appear are the candidates
for tombstones. The ledger holds no personal data: participants are keyed by pseudonym.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


class Ledger:
    """The ledger of one node directory, read into memory per platform."""

    def __init__(self, node_dir: Path) -> None:
        self._db = sqlite3.connect(node_dir / LEDGER_FILE, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._pending = 0

    def entries(self, platform: str) -> dict[tuple[str, str], tuple[str, str]]:
        """(kind, id) -> (iri, hash) of everything imported from ``platform``."""
        rows = self._db.execute("SELECT kind, ident, iri, hash FROM imported WHERE platform = ?",
                                (platform,))
        return {(kind, ident): (iri, digest) for kind, ident, iri, digest in rows}

    def record(self, platform: str, kind: str, ident: str, iri: str, digest: str) -> None:
        """Remember that ``iri`` now holds the document with ``digest``."""
        self._db.execute("INSERT OR REPLACE INTO imported VALUES (?, ?, ?, ?, ?)",
                         (platform, kind, ident, iri, digest))
        self._tick()

    def forget(self, platform: str, kind: str, ident: str) -> None:
        """Drop an entry (its resource was tombstoned)."""
        self._db.execute("DELETE FROM imported WHERE platform = ? AND kind = ? AND ident = ?",
                         (platform, kind, ident))
        self._tick()

    def held_elsewhere(self, iri: str, platform: str) -> bool:
        """Whether an import other than ``platform`` also wrote ``iri`` (keep it then)."""
        row = self._db.execute("SELECT 1 FROM imported WHERE iri = ? AND platform != ? LIMIT 1",
                               (iri, platform)).fetchone()
        return row is not None

    def log_run(self, platform: str, source: str, started: str, summary: str) -> None:
        """Keep a line about the run (for operators looking back)."""
        self._db.execute("INSERT INTO runs (platform, source, started, summary) "
                         "VALUES (?, ?, ?, ?)", (platform, source, started, summary))
        self.commit()

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= 500:
            self.commit()

    def commit(self) -> None:
        """Make the recorded entries durable."""
        self._db.commit()
        self._pending = 0

    def close(self) -> None:
        """Commit and close."""
        self.commit()
        self._db.close()
