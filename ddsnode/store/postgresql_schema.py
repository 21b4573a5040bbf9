"""The PostgreSQL schema of the PostgreSQL store, its migrations, and how a connection opens.

PostgreSQL is the source of truth, shared by every process of a node. Durability: a write
is acknowledged after its ``COMMIT`` returns, and every connection sets
``synchronous_commit = on`` itself, so a server configured for speed (``off``) cannot make
the node acknowledge a write that a crash would lose.

Tables (the embedded store's, ``sqlite_schema.py``, in PostgreSQL types)::

    resources        one row per IRI (live or tombstone); seq from resource_seq: paging order
    representations  (seq, media_type) -> etag, body
    tags             (field, value, container, seq) for the multi-valued filters
    members          container -> number of live members
    changes          the change log: seq from log_head, gapless, in commit order
    stamps           container -> seq of the last change to one of its members
    log_head         one row: the last change seq; its row lock orders commits
    schema_version   one row: the schema this database was written by
    node_state       key -> bytes shared by every process and machine (state.py; schema 2)
    state_head       one row: the number of committed node_state changes

Only plain PostgreSQL is used (docs/storage.md lists it): tables, B-tree and GIN indexes, a
sequence, ``tsvector`` with the built-in ``simple`` configuration, transactions with
savepoints, ``SELECT … FOR UPDATE / FOR SHARE``, ``ON CONFLICT`` upserts and
``pg_try_advisory_lock`` (the background-loop lease, ``postgresql_lease.py``).
"""

from __future__ import annotations

from typing import Any

from ddsnode.store.migrations import migrate

SCHEMA_VERSION = 2

# What takes a database written by schema N-1 to N, run in the transaction that opens it.
# 2: node_state and state_head (created by the idempotent DDL that follows every step).
MIGRATIONS: dict[int, tuple[str, ...]] = {2: ()}

DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    id integer PRIMARY KEY CHECK (id = 1),
    version integer NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS resource_seq;

CREATE TABLE IF NOT EXISTS resources (
    seq bigint PRIMARY KEY,
    iri text NOT NULL UNIQUE,
    container text,
    kind text NOT NULL,
    version bigint NOT NULL,
    created text NOT NULL,
    modified text NOT NULL,
    ntriples bytea NOT NULL,
    bytes bytea,
    binary_type text,
    index_json text NOT NULL,
    platform text,
    lat double precision,
    long double precision,
    date text,
    reps boolean NOT NULL,
    search tsvector
);
CREATE INDEX IF NOT EXISTS resources_children
    ON resources (container, seq) WHERE kind <> 'tombstone';
CREATE INDEX IF NOT EXISTS resources_search ON resources USING gin (search);

CREATE TABLE IF NOT EXISTS representations (
    seq bigint NOT NULL,
    media_type text NOT NULL,
    etag text NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (seq, media_type)
);

CREATE TABLE IF NOT EXISTS tags (
    field text NOT NULL,
    value text NOT NULL,
    container text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (field, value, container, seq)
);
CREATE INDEX IF NOT EXISTS tags_seq ON tags (seq);

CREATE TABLE IF NOT EXISTS members (
    container text PRIMARY KEY,
    live bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS stamps (
    container text PRIMARY KEY,
    seq bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS changes (
    seq bigint PRIMARY KEY,
    iri text NOT NULL,
    action text NOT NULL,
    at text NOT NULL,
    container text,
    types text NOT NULL
);

CREATE TABLE IF NOT EXISTS log_head (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL
);
INSERT INTO log_head VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS node_state (
    key text PRIMARY KEY,
    value bytea NOT NULL,
    version bigint NOT NULL,
    changed double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS state_head (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO state_head VALUES (1, 0) ON CONFLICT (id) DO NOTHING
"""

# Two processes opening a new database at once: the first creates, the other waits here.
# (An advisory lock, not a table lock: there may be no table yet.)
_CREATE_LOCK = 0x64647300  # "dds\0"


def connect(url: str, *, connect_timeout: float) -> Any:
    """A psycopg connection in autocommit mode (transactions are explicit BEGIN/COMMIT)."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
    # Acknowledge only what is on disk, whatever the server's default.
    conn.execute("SET synchronous_commit = on")
    return conn


def create(conn: Any) -> None:
    """Create the tables if missing, migrate an older schema (:data:`MIGRATIONS`, in one
    transaction: all or nothing); refuse a database written by a newer schema."""
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
        exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
        row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone() \
            if exists else None
        version = int(row[0]) if row else SCHEMA_VERSION
        migrate(conn.execute, version, SCHEMA_VERSION, MIGRATIONS, DDL)
        conn.execute("INSERT INTO schema_version VALUES (1, %s) ON CONFLICT (id) "
                     "DO UPDATE SET version = excluded.version", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
