"""The intake's event log: append-only, hash-chained, in ``DIR/intake.db`` (SQLite).

(On ``store = "postgresql"`` the same events live in the node state, shared by every
machine: :mod:`.shared_log`.)

Shaped like NIST SP 1500-101 (Election Event Logging): each event has a sequence
number, a time, what happened (``kind``), a disposition (``accepted`` or ``refused``),
who did it (the token's id, never the token), details, the hash of the previous event
and its own hash. The hash is SHA-256 over the canonical JSON of every other field
(sorted keys, no spaces, UTF-8), so changing, removing or reordering any stored event
breaks the chain from there on; :func:`verify` walks it. Nothing is updated or deleted:
a correction is a new event that points at the one it revises.

Durability: WAL, ``synchronous=FULL``, one transaction per event (SQLite fsyncs the WAL
before the commit returns). Several processes may append: :meth:`EventLog.exclusive`
takes SQLite's write lock (``BEGIN IMMEDIATE``), so a process reads the events it has
not seen and appends after them in one transaction. This module is the only one that
touches the ``events`` table.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddsnode import clock
from ddsnode.paths import INTAKE_DB

__all__ = ["ACCEPTED", "GENESIS", "INTAKE_DB", "REFUSED", "Appender", "Event", "EventLog",
           "LogFault", "canonical", "content_faults", "event_hash", "verify"]

ACCEPTED, REFUSED = "accepted", "refused"
GENESIS = "0" * 64  # the "previous hash" of event 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  kind TEXT NOT NULL,
  disposition TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
);
"""


def canonical(value: Any) -> str:
    """The one JSON text a value hashes as: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(seq: int, time: str, kind: str, disposition: str, subject: str,
               details: str, prev: str) -> str:
    """SHA-256 (hex) of an event's fields; ``details`` is its stored canonical JSON text."""
    text = canonical({"seq": seq, "time": time, "kind": kind, "disposition": disposition,
                      "subject": subject, "details": details, "prev": prev})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    """One logged event."""

    seq: int
    time: str
    kind: str
    disposition: str
    subject: str
    details: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """As ``GET /intake/log`` lists it."""
        return {"sequence": self.seq, "time": self.time, "kind": self.kind,
                "disposition": self.disposition, "subject": self.subject,
                "details": self.details, "previousHash": self.prev, "hash": self.hash}


def _event(row: tuple[Any, ...]) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


class Appender:
    """Inside :meth:`EventLog.exclusive`: read what others appended, append after it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def after(self, seq: int) -> list[Event]:
        """Events with a sequence above ``seq``, in order."""
        rows = self.db.execute("SELECT seq, time, kind, disposition, subject, details, prev, "
                               "hash FROM events WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        return [_event(r) for r in rows]

    def append(self, kind: str, disposition: str, details: dict[str, Any],
               subject: str = "") -> Event:
        """Add one event at the end of the chain (committed when the block ends)."""
        last = self.db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
                               ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        time, text = clock.stamp(), canonical(details)
        digest = event_hash(seq, time, kind, disposition, subject, text, prev)
        self.db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                        (seq, time, kind, disposition, subject, text, prev, digest))
        return Event(seq, time, kind, disposition, subject, json.loads(text), prev, digest)


class EventLog:
    """The event log of one node directory."""

    def __init__(self, node_dir: Path) -> None:
        self.path = Path(node_dir) / INTAKE_DB
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        # Readers share one connection of their own (a reader never waits for a writer in
        # WAL mode): the desk catches up before every decision, and a connection opened
        # for each one cost more than the query.
        self._read_lock = threading.Lock()
        self._reader = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)

    def close(self) -> None:
        """Close the connections (a reader's query in progress finishes first)."""
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()

    @contextmanager
    def exclusive(self) -> Iterator[Appender]:
        """One write transaction, exclusive across threads and processes; rolled back
        when the block raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Appender(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def page(self, after: int, limit: int) -> list[Event]:
        """Up to ``limit`` events after sequence ``after`` (committed ones only)."""
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT seq, time, kind, disposition, subject, details, prev, hash FROM events "
                "WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [_event(r) for r in rows]

    def head(self) -> tuple[int, str]:
        """(sequence, hash) of the last event; (0, GENESIS) when the log is empty."""
        with self._read_lock:
            row = self._reader.execute("SELECT seq, hash FROM events ORDER BY seq DESC "
                                       "LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class LogFault:
    """Where the chain breaks, and how."""

    seq: int
    problem: str


def content_faults(seq: int, fields: tuple[str, str, str, str, str], stored_prev: str,
                   digest: str, prev: str) -> list[LogFault]:
    """What is wrong with one stored event, whichever log holds it: ``fields`` are its
    time, kind, disposition, subject and details; ``prev`` the hash of the event before."""
    faults = []
    if stored_prev != prev:
        faults.append(LogFault(seq, "its previous hash is not the hash of the event before it"))
    try:
        json.loads(fields[4])
    except ValueError:
        faults.append(LogFault(seq, "its details are not JSON"))
    if event_hash(seq, *fields, stored_prev) != digest:
        faults.append(LogFault(seq, "its hash does not match its content: it was "
                                    "changed after it was written"))
    return faults


def verify(path: Path) -> tuple[int, list[LogFault]]:
    """Walk the chain of the log at ``path`` (a node directory or the database file):
    ``(events read, faults)``. Reads rows as stored (text), so a garbled row is a fault,
    not a crash. A node directory whose settings say ``store = "postgresql"``: the log
    of the node state, shared by every machine (:mod:`.shared_log`)."""
    if path.is_dir():
        from ddsnode.settings import Settings
        settings = Settings.load(path)
        if settings.store == "postgresql":
            from ddsnode.intake.shared_log import verify_shared
            from ddsnode.store import open_state
            state = open_state(settings)
            try:
                return verify_shared(state)
            finally:
                state.close()
    db_path = path / INTAKE_DB if path.is_dir() else path
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no intake log here")
    faults: list[LogFault] = []
    prev, expected, count = GENESIS, 1, 0
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)) as db:
        rows = db.execute("SELECT seq, time, kind, disposition, subject, details, prev, hash "
                          "FROM events ORDER BY seq")
        for row in rows:
            count += 1
            seq, time, kind, disposition, subject, details, stored_prev, digest = (
                row[0], *(str(v) for v in row[1:]))
            if seq != expected:
                faults.append(LogFault(seq, f"expected event {expected}: events are missing"))
            faults += content_faults(seq, (time, kind, disposition, subject, details),
                                     stored_prev, digest, prev)
            prev, expected = digest, seq + 1
    return count, faults
