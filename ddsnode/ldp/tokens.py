"""Bearer tokens, stored hashed in the node directory's ``admin.db`` (SQLite).

SQLite can be opened by several processes at once, so ``ddsnode token create`` works
whether or not the node is running, and a revoked token stops working at the next
request. Only a SHA-256 hash of each token is kept: tokens are 256-bit random strings,
so a fast hash is enough (no password stretching needed) and a stolen ``admin.db``
reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

SCOPES = ("read", "write", "review", "admin")  # review: analysis/ (issue 13)
DEFAULT_SCOPES = ("read", "write")
PREFIX = "dds_"
ADMIN_DB = "admin.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL,
  revoked REAL
);
"""


@dataclass(frozen=True)
class TokenInfo:
    """What a valid token grants."""

    id: str
    scopes: frozenset[str]
    label: str
    created: float
    revoked: float | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRegistry:
    """The node's tokens, in ``DIR/admin.db``."""

    def __init__(self, node_dir: Path) -> None:
        self.path = Path(node_dir) / ADMIN_DB
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _reader(self) -> sqlite3.Connection:
        """This thread's long-lived connection for lookups: opening one per request cost
        more than the rest of an authorised request. In WAL mode each statement still
        reads the latest commit, so a token revoked by another process fails at once."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            self._local.db = db
        return db

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode, closed on exit (each statement is durable)."""
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db

    def create(self, scopes: Iterable[str] = DEFAULT_SCOPES, label: str = "") -> str:
        """Mint a token with ``scopes``; returns the token (shown once, never stored)."""
        wanted = sorted(set(scopes))
        unknown = set(wanted) - set(SCOPES)
        if unknown or not wanted:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {', '.join(wanted)}")
        token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self._connect() as db:
            db.execute("INSERT INTO tokens (id, hash, scopes, label, created) VALUES (?,?,?,?,?)",
                       (token_id, _hash(token), " ".join(wanted), label, time.time()))
        return token

    def verify(self, token: str) -> TokenInfo | None:
        """The grant of a live token, or None for an unknown or revoked one."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        row = self._reader().execute(
            "SELECT id, scopes, label, created, revoked FROM tokens WHERE hash=?",
            (_hash(token),)).fetchone()
        if row is None or row[4] is not None:
            return None
        return TokenInfo(row[0], frozenset(row[1].split()), row[2], row[3])

    def revoke(self, token_or_id: str) -> bool:
        """Revoke by token or by its id; False when nothing live matched."""
        key = token_or_id.strip()
        with self._connect() as db:
            cur = db.execute("UPDATE tokens SET revoked=? WHERE (id=? OR hash=?) AND revoked IS NULL",
                             (time.time(), key, _hash(key)))
        return cur.rowcount > 0

    def list(self) -> list[TokenInfo]:
        """Every token ever minted (hashes are not returned)."""
        with self._connect() as db:
            rows = db.execute("SELECT id, scopes, label, created, revoked FROM tokens "
                              "ORDER BY created").fetchall()
        return [TokenInfo(r[0], frozenset(r[1].split()), r[2], r[3], r[4]) for r in rows]
