"""Bearer tokens, stored hashed: in the node directory's ``admin.db`` (SQLite), or, on
``store = "postgresql"``, in the node state every machine of the node shares.

SQLite can be opened by several processes at once, so ``ddsnode token create`` works
whether or not the node is running, and a revoked token stops working at the next
request. On PostgreSQL two machines have two directories, so a token is a node-state
entry (``ddsnode/store/state.py``) ``token/<SHA-256 hex>`` -> JSON ``{id, scopes,
label, created, revoked}``: a token made through one machine works on every other at
the next request, and a revocation anywhere is seen everywhere at the next request
(each check reads the database; nothing is cached). A directory's ``admin.db`` from
before the move is copied into the node state when the registry opens (existing
entries win). Only a SHA-256 hash of each token is kept: tokens are 256-bit random
strings, so a fast hash is enough (no password stretching needed) and a stolen
``admin.db`` or database reveals no usable token.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ddsnode.settings import Settings
from ddsnode.store import open_state
from ddsnode.store.base import Store
from ddsnode.store.state import NodeState

SCOPES = ("read", "write", "review", "admin")  # review: analysis/ (issue 13)
DEFAULT_SCOPES = ("read", "write")
PREFIX = "dds_"
ADMIN_DB = "admin.db"
STATE_PREFIX = "token/"  # node-state keys of the tokens (store = postgresql)

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
    """The node's tokens: ``DIR/admin.db``, or the node state on PostgreSQL (``settings``
    default to the directory's own; ``store`` lends its connection pool)."""

    def __init__(self, node_dir: Path, *, settings: Settings | None = None,
                 store: Store | None = None) -> None:
        self.path = Path(node_dir) / ADMIN_DB
        self._local = threading.local()
        settings = settings if settings is not None else Settings.load(Path(node_dir))
        self._state: NodeState | None = None
        if settings.store == "postgresql":
            self._state = open_state(settings, store)
            if self.path.exists():
                self._copy_admin_db(self._state)
            return
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _copy_admin_db(self, state: NodeState) -> None:
        """Tokens minted before the node moved to PostgreSQL keep working (add(): an
        entry already in the state, revoked there say, is never overwritten)."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            rows = db.execute("SELECT id, hash, scopes, label, created, revoked FROM tokens"
                              ).fetchall()
        for token_id, digest, scopes, label, created, revoked in rows:
            state.add(STATE_PREFIX + digest, _record(token_id, scopes, label, created, revoked))

    def close(self) -> None:
        """Release the node state's connections (nothing to do for ``admin.db``)."""
        if self._state is not None:
            self._state.close()

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
        if self._state is not None:
            self._state.put(STATE_PREFIX + _hash(token),
                            _record(token_id, " ".join(wanted), label, time.time(), None))
            return token
        with self._connect() as db:
            db.execute("INSERT INTO tokens (id, hash, scopes, label, created) VALUES (?,?,?,?,?)",
                       (token_id, _hash(token), " ".join(wanted), label, time.time()))
        return token

    def verify(self, token: str) -> TokenInfo | None:
        """The grant of a live token, or None for an unknown or revoked one."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        if self._state is not None:
            value = self._state.get(STATE_PREFIX + _hash(token))
            found = _info(value) if value is not None else None
            return found if found is not None and found.revoked is None else None
        row = self._reader().execute(
            "SELECT id, scopes, label, created, revoked FROM tokens WHERE hash=?",
            (_hash(token),)).fetchone()
        if row is None or row[4] is not None:
            return None
        return TokenInfo(row[0], frozenset(row[1].split()), row[2], row[3])

    def revoke(self, token_or_id: str) -> bool:
        """Revoke by token or by its id; False when nothing live matched."""
        key = token_or_id.strip()
        if self._state is not None:
            return self._revoke_state(self._state, key)
        with self._connect() as db:
            cur = db.execute("UPDATE tokens SET revoked=? WHERE (id=? OR hash=?) AND revoked IS NULL",
                             (time.time(), key, _hash(key)))
        return cur.rowcount > 0

    def list(self) -> list[TokenInfo]:
        """Every token ever minted (hashes are not returned)."""
        if self._state is not None:
            found = [_info(v) for _, v in self._state.items(STATE_PREFIX)]
            return sorted(found, key=lambda t: t.created)
        with self._connect() as db:
            rows = db.execute("SELECT id, scopes, label, created, revoked FROM tokens "
                              "ORDER BY created").fetchall()
        return [TokenInfo(r[0], frozenset(r[1].split()), r[2], r[3], r[4]) for r in rows]

    @staticmethod
    def _revoke_state(state: NodeState, key: str) -> bool:
        by_hash = STATE_PREFIX + _hash(key)
        for name, value in [(by_hash, state.get(by_hash)), *state.items(STATE_PREFIX)]:
            if value is None:
                continue
            info = _info(value)
            if info.revoked is None and (name == by_hash or info.id == key):
                revoked = _record(info.id, " ".join(sorted(info.scopes)), info.label,
                                  info.created, time.time())
                # Compare and swap: a concurrent revocation of the same token wins alone.
                return state.swap(name, value, revoked)
        return False


def _record(token_id: str, scopes: str, label: str, created: float,
            revoked: float | None) -> bytes:
    return json.dumps({"id": token_id, "scopes": scopes, "label": label, "created": created,
                       "revoked": revoked}, sort_keys=True).encode("utf-8")


def _info(value: bytes) -> TokenInfo:
    data = json.loads(value)
    return TokenInfo(str(data["id"]), frozenset(str(data["scopes"]).split()),
                     str(data["label"]), float(data["created"]),
                     None if data["revoked"] is None else float(data["revoked"]))
