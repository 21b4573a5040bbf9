"""Node state: small values every process and machine of a node must agree on.

A key -> bytes table beside the resources, for what is not an LDP resource yet must be
the same everywhere: the node's signing key, its bearer tokens, and what other packages
need (an election-night signing key, the head of an event log). On ``store =
"postgresql"`` it is a table of the node's database (``postgresql_state.py``), so two
machines on one database share it; otherwise it is ``DIR/node-state.db`` (SQLite, the
same contract, :class:`SqliteState`), since those stores keep one node on one machine.

The contract (``tests/test_store_state.py`` runs it over both):

* :meth:`NodeState.commit` is the one write: a compare-and-swap over several keys, all
  or nothing, durable when it returns True (a transaction with ``synchronous_commit`` on,
  or SQLite's WAL with ``synchronous=FULL``). ``expect`` maps keys to the bytes they must
  hold now (None: must be absent); ``values`` maps keys to new bytes (None: delete).
  Of two commits expecting the same state, exactly one returns True, whichever process
  or machine runs it. The other writes are wrappers: :meth:`put` (last writer wins),
  :meth:`add` (first writer wins: what every process should generate once, like a key),
  :meth:`swap`, :meth:`delete`.
* :meth:`get` and :meth:`items` read the latest committed values (no cache: a revoked
  token fails at once everywhere).
* :meth:`head` moves with every committed change (a counter, in commit order): a
  process caching something derived from the state re-reads it when the head moved.

How other packages use it (``open_state(settings, store)``)::

    state = open_state(node.settings, node.store)
    pem = state.add("publication/signing-key", fresh_pem)  # one key for every machine
    # an append-only chain: the event and the new head together, or neither
    ok = state.commit({"intake/head": old_head}, {"intake/head": new_head,
                                                   f"intake/event/{n:012d}": event})

Keys are short printable ASCII names, ``package/name`` by convention (``token/…`` and
``node-key…`` are taken); a value is at most :data:`MAX_VALUE_BYTES`. This is not a
bulk store: large or numerous things belong in resources.
"""

from __future__ import annotations

import abc
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path

__all__ = ["MAX_KEY_CHARS", "MAX_VALUE_BYTES", "STATE_FILE", "NodeState", "SqliteState",
           "check_key", "check_values"]

STATE_FILE = "node-state.db"
#: A value is a key, a token record, a chain head: 1 MiB is far above any of them and
#: bounds what one careless caller can put in every process's memory.
MAX_VALUE_BYTES = 1024 * 1024
MAX_KEY_CHARS = 200
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]*")


def check_key(key: str) -> str:
    """``key`` if it is a valid state key; ValueError otherwise."""
    if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or not _KEY.fullmatch(key):
        raise ValueError(f"a state key is 1-{MAX_KEY_CHARS} characters of [A-Za-z0-9._:/@-] "
                         f"starting with a letter or digit; got {str(key)[:60]!r}")
    return key


def check_values(expect: Mapping[str, bytes | None],
                 values: Mapping[str, bytes | None]) -> None:
    """ValueError for a bad key or a value too large (nothing is written then)."""
    for mapping in (expect, values):
        for key, value in mapping.items():
            check_key(key)
            if value is not None and not isinstance(value, bytes):
                raise TypeError(f"state values are bytes; {key} got {type(value).__name__}")
            if value is not None and len(value) > MAX_VALUE_BYTES:
                raise ValueError(f"state value {key} is {len(value):,} bytes, past "
                                 f"{MAX_VALUE_BYTES:,}")


class NodeState(abc.ABC):
    """Small shared values of one node: key -> bytes, with atomic compare-and-swap."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None."""

    @abc.abstractmethod
    def items(self, prefix: str, *, after: str = "",
              limit: int | None = None) -> list[tuple[str, bytes]]:
        """(key, value) of the keys that start with ``prefix``, in key order (byte order),
        those greater than ``after`` only, at most ``limit``: a page of a log kept as
        ``log/event/000000000123`` keys is ``items("log/event/", after=last, limit=n)``."""

    @abc.abstractmethod
    def commit(self, expect: Mapping[str, bytes | None],
               values: Mapping[str, bytes | None]) -> bool:
        """If every key of ``expect`` holds what it says (None: absent), write ``values``
        (None: delete) and return True, all in one transaction; else change nothing and
        return False."""

    @abc.abstractmethod
    def head(self) -> int:
        """A number that moves with every committed change (0: none yet)."""

    def close(self) -> None:  # noqa: B027 - a backend without resources of its own
        """Release connections (a state borrowed from a store leaves the store's alone)."""

    # -- the usual writes, as commits --------------------------------------------------

    def put(self, key: str, value: bytes) -> None:
        """Set ``key`` (last writer wins)."""
        self.commit({}, {key: value})

    def add(self, key: str, value: bytes) -> bytes:
        """Set ``key`` unless it is set; the value it holds afterwards (first writer
        wins: every process that generates one gets the same)."""
        while True:
            if self.commit({key: None}, {key: value}):
                return value
            current = self.get(key)
            if current is not None:
                return current
            # Deleted between the two steps: try again.

    def swap(self, key: str, expect: bytes | None, value: bytes | None) -> bool:
        """Compare and swap one key (None: absent / delete)."""
        return self.commit({key: expect}, {key: value})

    def delete(self, key: str) -> bool:
        """Remove ``key``; False when it was absent."""
        while True:
            current = self.get(key)
            if current is None:
                return False
            if self.commit({key: current}, {key: None}):
                return True


class SqliteState(NodeState):
    """The node state in ``DIR/node-state.db``: WAL, ``synchronous=FULL``, writers
    serialised by ``BEGIN IMMEDIATE`` (several processes of one machine may open it)."""

    def __init__(self, node_dir: Path) -> None:
        self.path = Path(node_dir) / STATE_FILE
        self._local = threading.local()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, "
                       "value BLOB NOT NULL, changed REAL NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS state_head (id INTEGER PRIMARY KEY "
                       "CHECK (id = 1), version INTEGER NOT NULL)")
            db.execute("INSERT OR IGNORE INTO state_head VALUES (1, 0)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA synchronous=FULL")
            yield db

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            self._local.db = db
        return db

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None."""
        row = self._reader().execute("SELECT value FROM node_state WHERE key = ?",
                                     (check_key(key),)).fetchone()
        return None if row is None else bytes(row[0])

    def items(self, prefix: str, *, after: str = "",
              limit: int | None = None) -> list[tuple[str, bytes]]:
        """(key, value) under ``prefix`` after ``after``, in key order, at most ``limit``."""
        # substr() rather than LIKE: exact, whatever the prefix holds. Keys are ASCII, so
        # SQLite's BINARY collation is byte order (as COLLATE "C" on PostgreSQL).
        rows = self._reader().execute(
            "SELECT key, value FROM node_state WHERE substr(key, 1, ?) = ? AND key > ? "
            "ORDER BY key LIMIT ?", (len(prefix), prefix, after,
                                     -1 if limit is None else limit)).fetchall()
        return [(str(k), bytes(v)) for k, v in rows]

    def commit(self, expect: Mapping[str, bytes | None],
               values: Mapping[str, bytes | None]) -> bool:
        """Compare ``expect``, write ``values``: one ``BEGIN IMMEDIATE`` transaction."""
        check_values(expect, values)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for key, wanted in expect.items():
                    row = db.execute("SELECT value FROM node_state WHERE key = ?",
                                     (key,)).fetchone()
                    if (None if row is None else bytes(row[0])) != wanted:
                        db.execute("ROLLBACK")
                        return False
                if values:
                    _write(db, values)
                db.execute("COMMIT")
                return True
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def head(self) -> int:
        """The number of committed changes."""
        return int(self._reader().execute(
            "SELECT version FROM state_head WHERE id = 1").fetchone()[0])

    def close(self) -> None:
        """Close this thread's reading connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _write(db: sqlite3.Connection, values: Mapping[str, bytes | None]) -> None:
    now = time.time()
    db.execute("UPDATE state_head SET version = version + 1 WHERE id = 1")
    for key, value in sorted(values.items()):
        if value is None:
            db.execute("DELETE FROM node_state WHERE key = ?", (key,))
        else:
            db.execute("INSERT INTO node_state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
                       "SET value = excluded.value, changed = excluded.changed",
                       (key, value, now))
