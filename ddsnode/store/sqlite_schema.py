"""The SQLite schema of the embedded store, and how a connection to it is opened.

SQLite is the source of truth. Durability comes from WAL with ``synchronous=FULL``: a
transaction is acknowledged (``COMMIT`` returns) only after its WAL frames are fsynced,
so a SIGKILL or a power cut after that keeps it, and one before it leaves no trace.

Tables::

    resources        one row per IRI (live or tombstone); rowid = seq, the creation order
    representations  (seq, media_type) -> etag, body
    tags             (field, value, container, seq) for the multi-valued filters
    fulltext         FTS5 over title + text, rowid = seq
    members          container -> number of live members
    changes          the change log; seq AUTOINCREMENT never reuses a number
    stamps           container -> seq of the last change to one of its members
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ddsnode.store.migrations import migrate

SCHEMA_VERSION = 2

# What takes a store written by schema N-1 to N, run in the transaction that opens it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: a resource row says whether it has stored representations (files do; RDF sources
    # are rendered on read), so a read of an RDF source is one lookup.
    2: ("ALTER TABLE resources ADD COLUMN reps INTEGER NOT NULL DEFAULT 1",
        ("UPDATE resources SET reps = EXISTS (SELECT 1 FROM representations p "
         "WHERE p.seq = resources.seq)")),
}

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY,          -- the change seq of the create: paging order
    iri TEXT NOT NULL UNIQUE,
    container TEXT,
    kind TEXT NOT NULL,               -- rdf | container | binary | tombstone
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    ntriples TEXT NOT NULL,
    binary BLOB,
    binary_type TEXT,
    index_json TEXT NOT NULL,         -- IndexFields as JSON, returned on pages
    platform TEXT,
    lat REAL,
    long REAL,
    date TEXT,
    reps INTEGER NOT NULL DEFAULT 1   -- 1 when rows in representations belong to it
);
-- Live members of a container, newest first: the keyset index of every page. date, lat
-- and long ride along so date and bbox filters are checked in the index, without reading
-- the (large) table row of every skipped member: 10-20x faster on sparse matches.
CREATE INDEX IF NOT EXISTS resources_children
    ON resources (container, seq, date, lat, long) WHERE kind != 'tombstone';

CREATE TABLE IF NOT EXISTS representations (
    seq INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (seq, media_type)
) WITHOUT ROWID;

-- One row per (field, value) of a live resource: type, topic, state, area, platform.
CREATE TABLE IF NOT EXISTS tags (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    container TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (field, value, container, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_seq ON tags (seq);

CREATE VIRTUAL TABLE IF NOT EXISTS fulltext USING fts5 (title, text);

-- Live members per container, kept in the same transaction: count_children is O(1).
CREATE TABLE IF NOT EXISTS members (
    container TEXT PRIMARY KEY,
    live INTEGER NOT NULL
) WITHOUT ROWID;

-- The last change seq per container, kept by every write: the key of cached pages.
CREATE TABLE IF NOT EXISTS stamps (
    container TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    iri TEXT NOT NULL,
    action TEXT NOT NULL,             -- create | update | delete
    at TEXT NOT NULL,
    container TEXT,
    types TEXT NOT NULL               -- JSON array
);
"""


def connect(path: Path, *, busy_timeout: float = 30.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, synchronous=FULL."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: COMMIT returns only after the WAL is fsynced, so an acknowledged write
    # survives power loss too (NORMAL would survive SIGKILL but not an OS crash).
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    return conn


def create(conn: sqlite3.Connection) -> None:
    """Create the tables if missing, migrate an older schema (:data:`MIGRATIONS`, in one
    transaction: all or nothing); refuse a database written by a newer schema."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        had_tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() \
            if had_tables else None
        version = int(row[0]) if row else SCHEMA_VERSION
        migrate(conn.execute, version, SCHEMA_VERSION, MIGRATIONS, DDL)
        conn.execute("INSERT INTO meta VALUES ('schema', ?) ON CONFLICT (key) "
                     "DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
