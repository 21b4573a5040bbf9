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

**On ``store = "postgresql"``** (several machines, one database) every table but the
peer cache lives in the node's database (:class:`SharedFederationDB`), so whichever
machine takes an inbox notification, a write of a counted resource or ``ddsnode peer
add``, and whichever holds the background loops, they read and write the same peers,
followers, outbox, breakers, seen activities, reaction ledger and push cursor. The
owners' SQL is unchanged: :class:`SharedConnection` gives them the sqlite3 calls they
make (``execute``, ``executemany``, ``with conn:`` as one transaction, ``rowcount``)
over psycopg, with client-side parameter binding and the two spellings PostgreSQL lacks
translated (``shared_connection.py``). The cache (``cache``, ``cache_links``) stays in each
machine's ``DIR/federation.db``: it is a cache (RFC 9111, revalidated), each machine
fills its own from its inbox and on demand, and the explorer's search index reads it
there (``CacheReader``). A directory's ``federation.db`` written before the move is
copied into empty shared tables once, when the database is first opened.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ddsnode.federation.shared_connection import SharedConnection
from ddsnode.problem import Unavailable
from ddsnode.settings import Settings
from ddsnode.store.migrations import statements

log = logging.getLogger(__name__)

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


# -- several machines: the shared tables on PostgreSQL -------------------------------------

#: Tables each machine keeps to itself on PostgreSQL (the peer cache: see the docstring).
LOCAL_TABLES = ("cache", "cache_links")
_TYPES = (("INTEGER PRIMARY KEY AUTOINCREMENT", "bigint GENERATED BY DEFAULT AS IDENTITY "
           "PRIMARY KEY"), (" WITHOUT ROWID", ""), (" INTEGER", " bigint"),
          (" REAL", " double precision"), (" BLOB", " bytea"), (" TEXT", " text"))
_CREATE_LOCK = 0x64647302  # "dds\2": processes opening a new database create the tables once


def shared_ddl() -> list[str]:
    """The DDL above in PostgreSQL types, without the local tables and their indexes."""
    out = []
    for statement in statements(DDL):
        table = re.search(r"(?:TABLE IF NOT EXISTS|ON) (\w+)", statement)
        if table is None or table.group(1) in LOCAL_TABLES:
            continue
        for sqlite, postgresql in _TYPES:
            statement = statement.replace(sqlite, postgresql)
        out.append(statement)
    return out


class SharedFederationDB(FederationDB):
    """The shared federation tables in the node's PostgreSQL database (one connection per
    thread, reopened when broken); ``local`` is this machine's file, for the cache."""

    def __init__(self, url: str, local: FederationDB) -> None:
        self.url = url
        self.local = local
        self.path = local.path
        self._local = threading.local()
        self._opened: list[SharedConnection] = []  # every thread's, closed by close()
        self._opened_lock = threading.Lock()
        conn = self.connect()
        with conn:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_CREATE_LOCK,))
            empty = conn.execute("SELECT to_regclass('peers') IS NULL").fetchone()[0]
            for statement in shared_ddl():
                conn.conn.execute(statement)
            if empty:
                self._copy_from(local, conn)

    def connect(self) -> Any:
        """This thread's connection (``with db:`` for a transaction)."""
        shared: SharedConnection | None = getattr(self._local, "conn", None)
        if shared is None:
            shared = SharedConnection(self._open)
            self._local.conn = shared
            with self._opened_lock:
                self._opened = [c for c in self._opened if not c.conn.closed] + [shared]
        return shared

    def _open(self) -> Any:
        import psycopg

        from ddsnode.store.postgresql import database_errors
        from ddsnode.store.postgresql_schema import connect
        try:
            conn = connect(self.url, connect_timeout=10.0)
        except database_errors() as e:
            raise Unavailable(f"the database is unreachable ({type(e).__name__}); retry") \
                from None
        # Client-side binding: the owners' "? IS NULL" needs no parameter type.
        conn.cursor_factory = psycopg.ClientCursor
        return conn

    @staticmethod
    def _copy_from(local: FederationDB, conn: SharedConnection) -> None:
        """Rows of a node directory's federation.db from before the move (once)."""
        source = local.connect()
        tables = [re.search(r"TABLE IF NOT EXISTS (\w+)", s) for s in statements(DDL)]
        for table in (t.group(1) for t in tables if t is not None):
            if table in LOCAL_TABLES:
                continue
            cursor = source.execute(f"SELECT * FROM {table}")  # noqa: S608 - our table names
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
            if rows:
                marks = ", ".join("?" for _ in columns)
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                                 f"VALUES ({marks}) ON CONFLICT DO NOTHING", rows)
                log.info("copied %d %s rows from %s into PostgreSQL", len(rows), table,
                         local.path)
        conn.execute("SELECT setval(pg_get_serial_sequence('outbox', 'id'), "
                     "greatest((SELECT max(id) FROM outbox), 1))")

    def close(self) -> None:
        """Close every thread's connection (the loops have stopped) and the local file's."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for shared in opened:
            shared.close()
        self._local.conn = None
        self.local.close()


def cache_database(db: FederationDB) -> FederationDB:
    """Where the peer cache of ``db``'s node is: the same file, or this machine's file
    when ``db`` is the shared tables on PostgreSQL."""
    return db.local if isinstance(db, SharedFederationDB) else db


def open_databases(settings: Settings) -> tuple[FederationDB, FederationDB]:
    """(the shared tables, the peer cache's) of a node: one ``DIR/federation.db`` for
    both, or on ``store = "postgresql"`` the database and this machine's file."""
    local = FederationDB(Path(str(settings.node_dir)))
    if settings.store != "postgresql":
        return local, local
    return SharedFederationDB(str(settings.database_url), local), local
