"""``DIR/federation.db``: everything federation keeps, in one SQLite file.

SQLite in WAL mode with ``synchronous=FULL`` (as the embedded store): a row is durable
once its transaction commits, and several processes may open the file at once, so
``ddsnode peer add`` writes here while the server runs and the server's federation loop
reads the new peer at its next step. Tables, each read and written by one module only
(its owner, in brackets; others call the owner's methods)::

    peers        [peers] nodes we follow: origin, base IRI, key, inbox, feed, feed cursor,
                 status
    followers    [peers] nodes that follow us: origin, inbox (from our peer registry), since
    cache        [cache] peer resources (RFC 9111 semantics: etag, last_modified, max_age,
                 fetched_at), valid or quarantined (with the SHACL report), listing columns
    cache_links  [cache] trace links (subject, predicate, object) of cached resources
    outbox       [outbox] activities to deliver, one row per (activity, inbox): attempts,
                 next attempt, last error, state pending | delivered | dead
    breakers     [outbox] per-host circuit breaker: consecutive failures, open until
    seen         [inbox] activity ids already processed by our inbox (receiver idempotence)
    reactions    [reactions] reactions to our resources, local and verified remote ones
    counted      [reactions] our resources whose counts the node computes (clients cannot
                 set them)
    baselines    [reactions] counts an imported resource's source platform stated when
                 counting began
    meta         [database] small values: the push cursor (last change seq turned into
                 activities, ``push.PUSH_CURSOR``)

A change that spans owners (a peer removed: its row, its cached resources, its pending
letters) runs in one transaction, the owners' functions taking the connection.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

DB_FILE = "federation.db"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS peers (
    origin TEXT PRIMARY KEY,
    base TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    keyid TEXT NOT NULL DEFAULT '',
    key_pem TEXT NOT NULL DEFAULT '',
    inbox TEXT NOT NULL DEFAULT '',
    feed TEXT NOT NULL DEFAULT '',
    containers TEXT NOT NULL DEFAULT '[]',
    cursor INTEGER NOT NULL DEFAULT 0,
    followed_since REAL NOT NULL,
    last_sync REAL,
    last_error TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active'
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS followers (
    origin TEXT PRIMARY KEY,
    inbox TEXT NOT NULL,
    keyid TEXT NOT NULL,
    since REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS cache (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- last (re)store order: listing keyset
    iri TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    fetched_from TEXT NOT NULL,
    status TEXT NOT NULL,                    -- valid | quarantined
    etag TEXT,
    last_modified TEXT,
    max_age REAL,
    fetched_at REAL NOT NULL,
    media_type TEXT,
    ntriples TEXT NOT NULL,
    jsonld TEXT NOT NULL DEFAULT '',
    container TEXT,                          -- our container path for its type
    types TEXT NOT NULL DEFAULT ' ',         -- ' t1 t2 ' (instr() filters)
    title TEXT NOT NULL DEFAULT '',
    states TEXT NOT NULL DEFAULT ' ',
    topics TEXT NOT NULL DEFAULT ' ',
    areas TEXT NOT NULL DEFAULT ' ',
    platform TEXT,
    lat REAL,
    long REAL,
    date TEXT,
    text TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '{}',      -- counts etc., shown in listings
    report TEXT
);
CREATE INDEX IF NOT EXISTS cache_listing ON cache (container, status, seq);
CREATE INDEX IF NOT EXISTS cache_by_fetch ON cache (fetched_at);
CREATE INDEX IF NOT EXISTS cache_by_origin ON cache (origin, fetched_at);

CREATE TABLE IF NOT EXISTS cache_links (
    iri TEXT NOT NULL,
    subject TEXT NOT NULL,
    predicate TEXT NOT NULL,
    object TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_links_iri ON cache_links (iri);
CREATE INDEX IF NOT EXISTS cache_links_subject ON cache_links (subject);
CREATE INDEX IF NOT EXISTS cache_links_object ON cache_links (object);

CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    object TEXT NOT NULL DEFAULT '',         -- the activity's object IRI
    state TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | dead
    created_at REAL NOT NULL,
    done_at REAL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE IF NOT EXISTS breakers (
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    open_until REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS seen (activity_id TEXT PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS reactions (
    reaction TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- support | like | follow | comment
    origin TEXT NOT NULL,                    -- 'local' or the peer origin it came from
    verified_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reactions_target ON reactions (target, kind, actor);

-- Our resources whose counts this node computes (server-managed from then on).
CREATE TABLE IF NOT EXISTS counted (target TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS baselines (target TEXT, term TEXT, value INTEGER NOT NULL,
  PRIMARY KEY (target, term)) WITHOUT ROWID;
"""


class FederationDB:
    """A thread-safe handle on ``DIR/federation.db`` (one connection per thread)."""

    def __init__(self, node_dir: Path | str) -> None:
        self.path = Path(node_dir) / DB_FILE
        self._local = threading.local()
        with self.connect() as db:
            db.executescript(DDL)

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (autocommit off: use ``with db:`` for a transaction)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.isolation_level = "IMMEDIATE"  # writers take the lock at BEGIN: no upgrades
            self._local.conn = conn
        return conn

    def get_meta(self, key: str, default: str = "") -> str:
        """A value of the ``meta`` table."""
        row = self.connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        with self.connect() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                       "SET value = excluded.value", (key, value))

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
