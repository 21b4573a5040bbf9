"""The background loops' lease on PostgreSQL: a session advisory lock.

``pg_try_advisory_lock`` on a connection kept for nothing else: PostgreSQL releases the
lock when that session ends — the process exits, is killed, or loses its connection — so
a dead owner needs no timeout to be replaced; the next try of another process gets it.
The owner checks its session every ``retry_seconds`` (a lost connection means the lock
may already be someone else's: it stops its loops). The session's ``application_name``
names the owner's process id, so operators (and tests) can see who runs the loops::

    SELECT application_name FROM pg_locks JOIN pg_stat_activity USING (pid)
    WHERE locktype = 'advisory' AND objid = 1684304641 AND granted;
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from ddsnode.store.postgresql_schema import connect

LOOP_LOCK = 0x64647301  # "dds\1": one advisory lock key per node database
APPLICATION_NAME = "ddsnode-loops-"  # + the owner's pid


class LoopLease:
    """The lease of :mod:`ddsnode.store.lease` over one dedicated connection."""

    def __init__(self, url: str, *, retry_seconds: float, connect_timeout: float) -> None:
        self.url = url
        self.retry_seconds = retry_seconds
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._held = False
        self.lock = LOOP_LOCK  # the advisory lock's key: one per set of loops

    def try_acquire(self) -> bool:
        """One ``pg_try_advisory_lock`` (never waits)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.url, connect_timeout=self.connect_timeout)
            self._conn.execute(f"SET application_name = '{APPLICATION_NAME}{os.getpid()}'")
            self._held = False
        if not self._held:
            self._held = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                                 (self.lock,)).fetchone()[0])
        return self._held

    def held(self) -> bool:
        """The session is alive (a round trip), so the lock is still ours."""
        if not self._held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - any failure: the session, and the lock, are gone
            self.release()
            return False

    def release(self) -> None:
        """Close the session (which releases the lock)."""
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None
