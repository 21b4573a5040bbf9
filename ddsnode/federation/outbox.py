"""Durable, idempotent delivery of activities to peers' LDN inboxes.

An activity is first written to the *outbox* (``federation.db``), one row per target
inbox, in the same step that decides to send it; the row survives restarts. The
delivery loop (:meth:`Outbox.deliver_due`) POSTs each due row through the signing
outbound client (LDN 3.2: a POST of a JSON-LD notification to the inbox):

* a 2xx marks it delivered; the receiver ignores an activity id it has already seen,
  so delivering twice is harmless;
* a failure schedules a retry with exponential backoff and full jitter (``base * 2^n``,
  capped), or after ``Retry-After`` (RFC 9110 10.2.3) when the peer sent one;
* a permanent refusal (400, 404, 410, 413, 415, 422, or a target the node will not
  reach) or ``max_attempts`` failures moves the row to the *dead letters*
  (``ddsnode peer dead-letters DIR``), with the last error;
* a circuit breaker per host: after ``breaker_threshold`` consecutive failures the host
  is skipped for ``breaker_cooldown`` seconds (doubling while it keeps failing) and its
  rows wait; one success closes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from ddsnode.federation.database import FederationDB
from ddsnode.outbound import OutboundClient, OutboundRefused, PeerError, normalise_origin

log = logging.getLogger("ddsnode.federation")

LDN_TYPE = "application/ld+json"
PERMANENT = frozenset({400, 404, 405, 410, 413, 415, 422})


@dataclass(frozen=True)
class Letter:
    """One outbox row."""

    id: int
    activity_id: str
    inbox: str
    host: str
    object: str
    attempts: int
    next_attempt_at: float
    last_error: str
    state: str
    created_at: float


_COLS = ("id, activity_id, inbox, host, object, attempts, next_attempt_at, last_error, state, "
         "created_at")


class Outbox:
    """The persisted outbox and its delivery policy."""

    def __init__(self, db: FederationDB, client: OutboundClient, *, max_attempts: int = 10,
                 backoff_base: float = 0.5, backoff_cap: float = 300.0,
                 breaker_threshold: int = 5, breaker_cooldown: float = 10.0,
                 concurrency: int = 16,
                 on_delivered: Callable[[str, bytes], None] | None = None) -> None:
        self.db, self.client = db, client
        self.on_delivered = on_delivered  # (inbox, body) after a 2xx
        self.max_attempts, self.backoff_base, self.backoff_cap = (max_attempts, backoff_base,
                                                                  backoff_cap)
        self.breaker_threshold, self.breaker_cooldown = breaker_threshold, breaker_cooldown
        self.concurrency = concurrency
        self.wakeup = asyncio.Event()
        self.sent = 0  # POSTs made (bench)

    def enqueue(self, activity: dict[str, Any], inboxes: list[str]) -> int:
        """Queue ``activity`` for each inbox (once per (activity id, inbox)); returns how many."""
        body = json.dumps(activity, ensure_ascii=False).encode("utf-8")
        obj = activity.get("object")
        object_iri = obj.get("id", "") if isinstance(obj, dict) else str(obj or "")
        now = time.time()
        added = 0
        with self.db.connect() as db:
            for inbox in dict.fromkeys(inboxes):
                try:
                    host = normalise_origin(inbox)
                except ValueError:
                    continue
                added += db.execute(
                    "INSERT INTO outbox (activity_id, inbox, host, object, body, next_attempt_at,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (activity["id"], inbox, host, object_iri, body, now, now)).rowcount
        if added:
            self.wakeup.set()
        return added

    def inboxes_notified_about(self, object_iri: str) -> list[str]:
        """Inboxes that were sent activities about ``object_iri`` (so a Delete reaches them)."""
        rows = self.db.connect().execute("SELECT DISTINCT inbox FROM outbox WHERE object = ?",
                                         (object_iri,)).fetchall()
        return [r[0] for r in rows]

    def holds(self, host: str, id_part: str, state: str, *, since: float | None = None) -> bool:
        """Whether a row for ``host`` in ``state`` (queued at or after ``since``) carries an
        activity whose id contains ``id_part`` (``#follow-``: one of our Follows)."""
        row = self.db.connect().execute(
            "SELECT 1 FROM outbox WHERE host = ? AND instr(activity_id, ?) > 0 AND state = ? "
            "AND (? IS NULL OR created_at >= ?) LIMIT 1",
            (host, id_part, state, since, since)).fetchone()
        return row is not None

    def letters(self, state: str) -> list[Letter]:
        """Rows in ``state`` (pending, delivered, dead), oldest first."""
        rows = self.db.connect().execute(
            f"SELECT {_COLS} FROM outbox WHERE state = ? ORDER BY id", (state,)).fetchall()
        return [Letter(*r) for r in rows]

    def retry_dead(self, host: str | None = None) -> int:
        """Move dead letters (of ``host``, or all) back to pending, due now."""
        with self.db.connect() as db:
            count = db.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE state = 'dead' AND (? IS NULL OR host = ?)",
                (time.time(), host, host)).rowcount
        self.wakeup.set()
        return int(count)

    def hurry(self, host: str) -> None:
        """Make pending rows for ``host`` due now and close its breaker (peer re-added)."""
        with self.db.connect() as db:
            db.execute("UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND "
                       "host = ?", (time.time(), host))
            db.execute("DELETE FROM breakers WHERE host = ?", (host,))
        self.wakeup.set()

    # --- delivery --------------------------------------------------------------------------

    def _due(self, now: float, limit: int) -> list[tuple[int, str, str, bytes, int]]:
        rows = self.db.connect().execute(
            "SELECT o.id, o.inbox, o.host, o.body, o.attempts FROM outbox o LEFT JOIN breakers b"
            " ON b.host = o.host WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND "
            "coalesce(b.open_until, 0) <= ? ORDER BY o.next_attempt_at LIMIT ?",
            (now, now, limit)).fetchall()
        return [(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    def next_due(self) -> float | None:
        """When the next pending row falls due (breakers aside), or None."""
        row = self.db.connect().execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    async def deliver_due(self, limit: int = 256) -> int:
        """Attempt every due row once (per-host breakers respected); returns how many were sent."""
        due = self._due(time.time(), limit)
        if not due:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        open_hosts: set[str] = set()

        async def one(row: tuple[int, str, str, bytes, int]) -> None:
            async with gate:
                if row[2] in open_hosts:
                    return  # the breaker opened during this round
                ok = await self._attempt(*row)
                if not ok and self._breaker_open(row[2]):
                    open_hosts.add(row[2])

        await asyncio.gather(*(one(row) for row in due))
        return len(due)

    async def _attempt(self, row_id: int, inbox: str, host: str, body: bytes,
                       attempts: int) -> bool:
        self.sent += 1
        try:
            await self.client.fetch(inbox, method="POST", body=body, accept=("*/*",),
                                    headers={"Content-Type": LDN_TYPE}, timeout=15.0)
        except OutboundRefused as exc:
            self._fail(row_id, attempts, str(exc), permanent=True)
            return False
        except PeerError as exc:
            status = exc.upstream_status
            retry_after = _retry_after(exc)
            self._fail(row_id, attempts, f"{exc} {exc.body[:200]!r}",
                       permanent=status in PERMANENT, retry_after=retry_after)
            self._trip(host)
            return False
        with self.db.connect() as db:
            db.execute("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
                       "done_at = ?, last_error = '' WHERE id = ?", (time.time(), row_id))
            db.execute("DELETE FROM breakers WHERE host = ?", (host,))
        if self.on_delivered is not None:
            try:
                self.on_delivered(inbox, body)
            except Exception:  # the delivery stands whatever the follow-up does
                log.exception("after delivering %s", row_id)
        return True

    def _fail(self, row_id: int, attempts: int, error: str, *, permanent: bool,
              retry_after: float | None = None) -> None:
        attempts += 1
        if permanent or attempts >= self.max_attempts:
            with self.db.connect() as db:
                db.execute("UPDATE outbox SET state = 'dead', attempts = ?, last_error = ?, "
                           "done_at = ? WHERE id = ?", (attempts, error[:1024], time.time(),
                                                        row_id))
            log.warning("dead letter %s: %s", row_id, error[:200])
            return
        # Exponential backoff with full jitter; Retry-After wins when the peer gave one.
        delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempts))
        if retry_after is not None:
            delay = max(retry_after, 0.0)
        with self.db.connect() as db:
            db.execute("UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? "
                       "WHERE id = ?", (attempts, error[:1024], time.time() + delay, row_id))

    def _trip(self, host: str) -> None:
        with self.db.connect() as db:
            db.execute("INSERT INTO breakers (host, failures) VALUES (?, 1) ON CONFLICT(host) "
                       "DO UPDATE SET failures = failures + 1", (host,))
            failures = int(db.execute("SELECT failures FROM breakers WHERE host = ?",
                                      (host,)).fetchone()[0])
            if failures >= self.breaker_threshold:
                over = failures - self.breaker_threshold
                cooldown = min(self.backoff_cap, self.breaker_cooldown * 2 ** min(over, 10))
                db.execute("UPDATE breakers SET open_until = ? WHERE host = ?",
                           (time.time() + cooldown, host))

    def _breaker_open(self, host: str) -> bool:
        row = self.db.connect().execute("SELECT open_until FROM breakers WHERE host = ?",
                                        (host,)).fetchone()
        return bool(row and row[0] > time.time())

    def breakers(self) -> list[tuple[str, int, float]]:
        """(host, consecutive failures, open until) of every host that failed lately."""
        rows = self.db.connect().execute(
            "SELECT host, failures, open_until FROM breakers ORDER BY host").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]


def _retry_after(exc: PeerError) -> float | None:
    """Seconds from a Retry-After the peer sent (delay-seconds or HTTP-date), if any."""
    value = getattr(exc, "retry_after", None)
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        return parsedate_to_datetime(text).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def abandon_host(db: sqlite3.Connection, host: str, reason: str) -> None:
    """Move the pending rows for ``host`` to the dead letters, inside the caller's
    transaction on ``db`` (a peer removed: ``PeerRegistry.remove``)."""
    db.execute("UPDATE outbox SET state = 'dead', last_error = ? "
               "WHERE state = 'pending' AND host = ?", (reason, host))
