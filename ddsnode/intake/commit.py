"""Group commit of the intake's events: concurrent tallies share one log transaction.

Each event is its own fsync'd transaction in the log (:mod:`.log`); at 50 tallies a
second, one fsync each would be the bottleneck. :class:`GroupCommit` queues the events
of concurrent threads; the first thread to come commits the whole queue in one
transaction (one fsync) for those behind it, which then return with their events —
as a database's group commit does. A failed commit fails every event of the batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ddsnode.intake.log import Event

__all__ = ["GroupCommit", "Job"]

Job = tuple[str, str, dict[str, Any], str]  # kind, disposition, details, subject


class GroupCommit:
    """Appends events through ``commit`` (a batch in, its committed events out, in order)."""

    def __init__(self, commit: Callable[[list[Job]], list[Event]]) -> None:
        self._commit = commit
        self._cv = threading.Condition()
        self._queue: list[list[Any]] = []  # [job, event, error]
        self._leading = False

    def append(self, kind: str, disposition: str, details: dict[str, Any],
               subject: str) -> Event:
        """Log one event, in the next commit (possibly another thread's)."""
        entry: list[Any] = [(kind, disposition, details, subject), None, None]
        with self._cv:
            self._queue.append(entry)
            while self._leading and entry[1] is None and entry[2] is None:
                self._cv.wait()
            lead = entry[1] is None and entry[2] is None
            if lead:
                self._leading, batch, self._queue = True, self._queue, []
        if lead:
            try:
                for e, event in zip(batch, self._commit([e[0] for e in batch]), strict=True):
                    e[1] = event
            except BaseException as error:
                for e in batch:
                    e[2] = error
            finally:
                with self._cv:
                    self._leading = False
                    self._cv.notify_all()
        if entry[2] is not None:
            raise entry[2]
        logged: Event = entry[1]
        return logged
