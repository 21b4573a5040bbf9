"""The intake's event log on the node state, for a node on PostgreSQL (several machines).

With ``store = "postgresql"`` two machines serving one node have two directories, so
``DIR/intake.db`` (:mod:`.log`) would give them two chains and two sets of idempotency
keys: a retried tally landing on the other machine would be counted twice. Here the log
lives in the node state (``ddsnode/store/state.py``), shared by every machine::

    intake/head                  "<sequence> <hash>" of the last event (ASCII)
    intake/event/000000000042    event 42: canonical JSON of its stored fields

The events, their hashes and the chain are those of :mod:`.log` (the same
:func:`.log.event_hash`, ``details`` kept as the canonical text it hashed), so
``GET /intake/log`` and ``ddsnode intake verify-log`` read them the same way. An append
is ONE compare-and-swap (:meth:`NodeState.commit`): the head it read, replaced by the
new head together with the new events, all or nothing. Of two machines appending after
the same head exactly one wins; the other gets :class:`LogRaced`, reads what the winner
appended (the desk folds it: its idempotency keys, its tallies) and appends after it.
So there is one chain whichever machine takes a tally, and a retry with the same
Idempotency-Key through another machine finds the first answer in the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ddsnode import clock
from ddsnode.intake.log import (
    GENESIS,
    Appender,
    Event,
    EventLog,
    LogFault,
    canonical,
    content_faults,
    event_hash,
)
from ddsnode.settings import Settings
from ddsnode.store.base import Store
from ddsnode.store.state import NodeState

__all__ = ["HEAD", "PREFIX", "AnyAppender", "AnyLog", "LogRaced", "SharedAppender",
           "SharedEventLog", "append_all", "open_log", "verify_shared"]

HEAD = "intake/head"
PREFIX = "intake/event/"
_PAGE = 1000  # events read per round trip


class LogRaced(RuntimeError):
    """Another machine appended after the head this append read: nothing was written;
    read its events and append again."""


def _key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}"


def _head(raw: bytes | None) -> tuple[int, str]:
    if raw is None:
        return 0, GENESIS
    seq, digest = raw.decode("ascii").split(" ", 1)
    return int(seq), digest


def _stored(value: bytes) -> Event:
    row = json.loads(value)
    return Event(int(row["seq"]), row["time"], row["kind"], row["disposition"],
                 row["subject"], json.loads(row["details"]), row["prev"], row["hash"])


class SharedAppender:
    """Inside :meth:`SharedEventLog.exclusive`: the events up to the head read at its
    start, and the new ones, committed together when the block ends."""

    def __init__(self, log: SharedEventLog, raw_head: bytes | None) -> None:
        self.log = log
        self.raw_head = raw_head
        self.seq, self.prev = _head(raw_head)
        self.limit = self.seq  # what this block may read: up to the head it read
        self.values: dict[str, bytes | None] = {}

    def after(self, seq: int) -> list[Event]:
        """Events with a sequence above ``seq``, up to the head read, in order."""
        out: list[Event] = []
        while seq < self.limit:
            page = self.log.page(seq, min(_PAGE, self.limit - seq))
            if not page:
                break
            out += page
            seq = page[-1].seq
        return out

    def append(self, kind: str, disposition: str, details: dict[str, Any],
               subject: str = "") -> Event:
        """Add one event after the head (written when the block ends, or never)."""
        seq, time, text, prev = self.seq + 1, clock.stamp(), canonical(details), self.prev
        digest = event_hash(seq, time, kind, disposition, subject, text, prev)
        self.values[_key(seq)] = canonical(
            {"seq": seq, "time": time, "kind": kind, "disposition": disposition,
             "subject": subject, "details": text, "prev": prev, "hash": digest}
        ).encode("utf-8")
        self.seq, self.prev = seq, digest
        return Event(seq, time, kind, disposition, subject, json.loads(text), prev, digest)

    def commit(self) -> None:
        """The compare-and-swap on the head; LogRaced when another machine moved it."""
        if not self.values:
            return
        values = {**self.values, HEAD: f"{self.seq} {self.prev}".encode("ascii")}
        if not self.log.state.commit({HEAD: self.raw_head}, values):
            raise LogRaced("another machine appended to the intake log first")


class SharedEventLog:
    """:class:`.log.EventLog`'s interface over the node state."""

    def __init__(self, state: NodeState) -> None:
        self.state = state

    def close(self) -> None:
        """Release the state's connections."""
        self.state.close()

    @contextmanager
    def exclusive(self) -> Iterator[SharedAppender]:
        """One append attempt: committed when the block ends (LogRaced: nothing written,
        the caller folds what was read and tries again)."""
        appender = SharedAppender(self, self.state.get(HEAD))
        yield appender
        appender.commit()

    def page(self, after: int, limit: int) -> list[Event]:
        """Up to ``limit`` events after sequence ``after``."""
        return [_stored(value) for _, value in
                self.state.items(PREFIX, after=_key(after), limit=limit)]

    def head(self) -> tuple[int, str]:
        """(sequence, hash) of the last event; (0, GENESIS) when the log is empty."""
        return _head(self.state.get(HEAD))


AnyLog = EventLog | SharedEventLog
AnyAppender = Appender | SharedAppender


def open_log(settings: Settings, store: Store | None) -> AnyLog:
    """The node's event log: the node state's on PostgreSQL, ``DIR/intake.db`` otherwise."""
    if settings.store == "postgresql":
        from ddsnode.store import open_state
        return SharedEventLog(open_state(settings, store))
    if settings.node_dir is None:
        raise ValueError("the intake needs a node directory (its log lives there)")
    return EventLog(settings.node_dir)


def append_all(log: AnyLog, before: Callable[[Any], None],
               jobs: list[list[Any]]) -> list[Event]:
    """Append ``jobs`` ((kind, disposition, details, subject) each) in one commit, after
    ``before(appender)`` has read what others appended; again after a :class:`LogRaced`
    (the events ``before`` read then are committed ones: folding them is right)."""
    while True:
        try:
            with log.exclusive() as appender:
                before(appender)
                return [appender.append(job[0], job[1], job[2], job[3]) for job in jobs]
        except LogRaced:
            continue


def verify_shared(state: NodeState) -> tuple[int, list[LogFault]]:
    """:func:`.log.verify` over the node state's events: ``(events read, faults)``;
    the head must name the last event too (a removed tail is a fault)."""
    faults: list[LogFault] = []
    prev, expected, count, after = GENESIS, 1, 0, ""
    while True:
        page = state.items(PREFIX, after=after, limit=_PAGE)
        for key, value in page:
            count += 1
            try:
                row = json.loads(value)
                seq = int(row["seq"])
                fields = [str(row[f]) for f in ("time", "kind", "disposition", "subject",
                                                "details", "prev", "hash")]
            except (ValueError, KeyError, TypeError):
                faults.append(LogFault(expected, f"{key} is not a stored event"))
                expected += 1
                continue
            time, kind, disposition, subject, details, stored_prev, digest = fields
            if key != _key(seq) or seq != expected:
                faults.append(LogFault(seq, f"expected event {expected}: events are missing "
                                            "or misplaced"))
            faults += content_faults(seq, (time, kind, disposition, subject, details),
                                     stored_prev, digest, prev)
            prev, expected = digest, seq + 1
        if len(page) < _PAGE:
            break
        after = page[-1][0]
    head = state.get(HEAD)
    if count and head is None:
        faults.append(LogFault(expected - 1, "the log has events but no head"))
    elif head is not None:
        try:
            ok = _head(head) == (expected - 1, prev)
        except ValueError:
            ok = False
        if not ok:
            faults.append(LogFault(expected - 1, "the head does not name the last event: "
                                                 "events were removed or added around it"))
    return count, faults
